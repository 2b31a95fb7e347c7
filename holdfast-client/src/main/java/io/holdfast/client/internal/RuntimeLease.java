package io.holdfast.client.internal;

import io.holdfast.ErrorCode;
import io.holdfast.LockLostException;
import io.holdfast.lease.LeaseHost;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.lease.ManagedLease;
import io.holdfast.lease.RenewOutcome;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A lease of the runtime. Its state, loss listeners and watchdog are {@link ManagedLease}'s; this
 * class only renews and releases it with the service.
 */
final class RuntimeLease extends ManagedLease {
    private final LeaseRegistry registry;
    private final Requests requests;
    private final ClientThreads threads;
    private final long leaseMillis;
    private volatile CompletableFuture<Void> confirmed = CompletableFuture.completedFuture(null);

    RuntimeLease(
            LeaseRegistry registry,
            Requests requests,
            ClientThreads threads,
            LeaseHost host,
            LeaseRequest request,
            long token,
            long leaseMillis,
            long countFromNanos) {
        super(host, request, token, countFromNanos);
        this.registry = registry;
        this.requests = requests;
        this.threads = threads;
        this.leaseMillis = leaseMillis;
    }

    /** Renews a third of the lease timeout apart, if it has one; without one the session holds it. */
    void startWatchdog() {
        if (leaseMillis > 0) {
            confirmed = startRenewals(Duration.ofMillis(leaseMillis / 3), Duration.ofMillis(leaseMillis));
        }
    }

    /**
     * When the lease may be handed out. A grant that reached this client a third of its lease
     * timeout or more after the acquire began may have timed out meanwhile (a reply or event held
     * up by a partition, a grant the table remembered): it is first confirmed by a renewal ({@link
     * io.holdfast.lease.ManagedLease#startRenewals}), and this fails if the grant is gone.
     */
    CompletableFuture<Void> confirmed() {
        return confirmed;
    }

    /** Asynchronous: the reply completes on a transport thread. */
    @Override
    protected CompletableFuture<RenewOutcome> renewInBackend() {
        try {
            return requests.callOnce(inv -> new Command.Renew(inv, name(), fencingToken()))
                    .handle((reply, error) -> {
                        if (reply instanceof Reply.Ok) {
                            return RenewOutcome.renewed();
                        }
                        if (reply instanceof Reply.Failed f) {
                            return RenewOutcome.refused("the service refused to renew it: " + f.message());
                        }
                        return RenewOutcome.unknown(error);
                    });
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(RenewOutcome.refused("the session is gone: " + e.getMessage()));
        }
    }

    @Override
    protected void releaseInBackend() {
        Replies.join(sendRelease());
    }

    @Override
    protected CompletableFuture<Void> releaseInBackendAsync() {
        return threads.toCaller(sendRelease());
    }

    /**
     * The release; its future completes on a transport thread, so never hand it to a caller. When
     * its outcome stays unknown, the caller hears {@link io.holdfast.UnavailableException} and the
     * release is sent again in the background until the service answers ({@link
     * Requests#untilKnown}).
     */
    private CompletableFuture<Void> sendRelease() {
        CompletableFuture<Reply> sent;
        Span span = requests.tracing().start(SpanName.RELEASE.text(), name());
        try (Scope ignored = Spans.current(span)) {
            sent = requests.untilKnown(inv -> new Command.Release(inv, name(), fencingToken()), null);
        } catch (RuntimeException e) {
            ClientTracing.end(span, e);
            return CompletableFuture.failedFuture(e);
        }
        return ClientTracing.endWhenDone(span, sent.thenApply(reply -> {
            if (reply instanceof Reply.Failed f) {
                if (f.code() == ErrorCode.NOT_OWNER || f.code() == ErrorCode.SESSION_EXPIRED) {
                    throw new LockLostException(describe() + " was lost before it was released: " + f.message());
                }
                throw Replies.failure(reply);
            }
            return null;
        }));
    }

    /** The registry that made this lease: its client's. */
    LeaseRegistry registry() {
        return registry;
    }

    /** Gives the lease back without reporting anything (a grant nobody wanted). */
    void releaseQuietly() {
        releaseAsync().exceptionally(e -> null);
    }
}
