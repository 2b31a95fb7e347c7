package io.holdfast.client.internal;

import io.holdfast.ErrorCode;
import io.holdfast.LockLostException;
import io.holdfast.UnavailableException;
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
import java.util.concurrent.TimeUnit;

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

    /**
     * Renews a third of the lease timeout apart, if it has one; without one the session holds it,
     * and a late grant is confirmed by the fence check ({@link #confirmed()}).
     *
     * @param late the grant may be older than the events this client has had
     */
    void startWatchdog(boolean late) {
        if (leaseMillis > 0) {
            confirmed = startRenewals(Duration.ofMillis(renewalMillis(leaseMillis)), Duration.ofMillis(leaseMillis));
        } else if (late) {
            confirmed = confirmCurrent();
        }
    }

    /**
     * When the lease may be handed out: at once, unless the grant is late. A grant is late when it
     * may have been lost before it reached this client, and the loss not told to it yet:
     *
     * <ul>
     *   <li>it came a third of its lease timeout or more after the acquire began (a reply or event
     *       held up by a partition): it may have timed out meanwhile;
     *   <li>it came in the answer to an acquire sent again (a retry, the backstop's ask, the ask
     *       after a gap in the events): the table remembers a grant it made a while ago, which may
     *       have been revoked or timed out since, with the events that said so held up or missed.
     * </ul>
     *
     * A late grant is first confirmed: with a lease timeout by a renewal ({@link
     * io.holdfast.lease.ManagedLease#startRenewals}, sent at once), without one by the fence check
     * ({@code isCurrentHolder}). This fails with {@link LockLostException} if the grant is gone
     * (the lease is then lost), with {@link UnavailableException} if the service could not say.
     */
    CompletableFuture<Void> confirmed() {
        return confirmed;
    }

    /**
     * The moment to count a late grant's lease timeout from: a renewal period before now, if that
     * is earlier than the acquire's start, so that the watchdog's catch-up renewal confirms it at
     * once. Still a moment that precedes the grant, as {@link io.holdfast.lease.ManagedLease} asks.
     */
    static long countFromIfLate(long startedNanos, long nowNanos, long leaseMillis) {
        if (leaseMillis <= 0) {
            return startedNanos;
        }
        long periodBefore = nowNanos - TimeUnit.MILLISECONDS.toNanos(Math.max(10, renewalMillis(leaseMillis)));
        return periodBefore - startedNanos < 0 ? periodBefore : startedNanos;
    }

    private static long renewalMillis(long leaseMillis) {
        return leaseMillis / 3;
    }

    /** The fence check of a late session-bound grant: still this client's, or lost. */
    private CompletableFuture<Void> confirmCurrent() {
        CompletableFuture<Boolean> current;
        try {
            current = requests.query(service -> service.isCurrentHolder(name(), fencingToken()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return current.handle((holds, error) -> {
            if (error != null) {
                throw new UnavailableException(
                        describe() + " was granted, but the service could not confirm it is still held: "
                                + Replies.unwrap(error).getMessage(),
                        Replies.unwrap(error));
            }
            if (!Boolean.TRUE.equals(holds)) {
                String why = "it was taken away (revoked, or ended) before its grant reached this client";
                markLost(why);
                throw new LockLostException(describe() + " was lost: " + why);
            }
            return null;
        });
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
