package io.holdfast.client.internal;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.holdfast.InvalidArgumentException;
import io.holdfast.RetryPolicy;
import io.holdfast.client.internal.Members.Member;
import io.holdfast.internal.Backoffs;
import io.holdfast.model.LockService;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event stream of one session, kept open on the member believed to lead.
 *
 * <p>The server's first message on a stream is {@code started}: from then on it delivers. Every
 * {@code started} after the first (a re-opened stream), a {@code gap} from the server, and anything
 * this build cannot read become {@link LockService.Listener#onGap()}, so that the runtime asks for
 * the outcomes it waits for. When the stream ends (the member died, shut down, or handed the
 * session to a newer stream) it is re-opened after a short backoff (50 ms doubling to about a
 * second), on the leader a refusal named, else on the believed leader. When the {@link
 * ClusterTransport} comes to believe in another leader ({@link Members#noteLeader}), the stream
 * moves there at once. A stream that had started re-opens after a move only once the new member
 * answered a heartbeat, or the bound passed ({@link HeartbeatsFirst}); a stream that never started
 * (a subscription waiting for it) does not wait. A stream whose credentials the member refused
 * ({@code PERMISSION_DENIED}, {@code UNAUTHENTICATED}: a bad, expired or revoked token, a session
 * of another identity) is re-opened only after {@link #REFUSED_PAUSE}, and stops the wait of {@link #start} at once: the
 * client's token does not change, its own calls report the refusal, and each refusal counts as a
 * failed authentication at the server (a refused command-line run counted 7, which set off the
 * shipped alert). It ends for good when it is closed or the members are; it never gives up by
 * itself.
 *
 * <p>The listener is called with this object's lock held, so calls are one at a time and in order
 * across re-opened streams.
 */
final class EventStream {
    private static final Logger LOG = LoggerFactory.getLogger(EventStream.class);
    private static final RetryPolicy BACKOFF = Backoffs.eventStreamReconnect();
    /** The pause before a stream whose credentials were refused is opened again. */
    static final java.time.Duration REFUSED_PAUSE = java.time.Duration.ofSeconds(30);

    private final Members members;
    private final ScheduledExecutorService scheduler;
    private final String sessionId;
    private final LockService.Listener listener;
    private final CountDownLatch firstStart = new CountDownLatch(1);
    private final Supplier<CompletableFuture<Void>> afterMove;

    // Guarded by this.
    private ClientCall<EventsRequest, EventMessage> call;
    private Member on;
    private ScheduledFuture<?> reopen;
    private boolean closed;
    private boolean started;
    private boolean subscribeReturned;
    private int failures;

    /**
     * @param scheduler runs the re-opens; once it is shut down, an ended stream stays ended
     * @param afterMove the gate a started stream's re-open waits for (done unless the home just moved)
     */
    EventStream(
            Members members,
            ScheduledExecutorService scheduler,
            String sessionId,
            LockService.Listener listener,
            Supplier<CompletableFuture<Void>> afterMove) {
        this.members = members;
        this.scheduler = scheduler;
        this.sessionId = sessionId;
        this.listener = listener;
        this.afterMove = afterMove;
    }

    /**
     * Opens the stream and waits up to {@code waitMillis} for the server to start delivering, so
     * that the events of the requests that follow are not missed. If it does not start in time,
     * the listener is told of a gap when it does. The wait ends early when the stream has failed
     * as many times in a row as there are members, none of them naming a leader (nothing listens
     * at any address, say): waiting longer would only spend the caller's connect timeout, and the
     * requests that follow report the failure themselves.
     */
    void start(long waitMillis) {
        open();
        try {
            firstStart.await(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (this) {
                subscribeReturned = true;
            }
        }
    }

    synchronized void close() {
        closed = true;
        if (reopen != null) {
            reopen.cancel(false);
        }
        if (call != null) {
            call.cancel("unsubscribed", null);
            call = null;
        }
        firstStart.countDown();
    }

    /** The members' leader belief changed: move there unless already there or on the way. */
    synchronized void leaderChanged() {
        if (!closed && call != null && on != members.leader()) {
            call.cancel("the leader moved", null);
            call = null;
            open();
        }
    }

    private synchronized void open() {
        reopen = null;
        if (closed || members.isClosed()) {
            return;
        }
        if (started) {
            CompletableFuture<Void> gate = afterMove.get();
            if (!gate.isDone()) {
                // Only this stream's own open waits here: call is null, so no other path opens it.
                gate.whenComplete((v, e) -> open());
                return;
            }
        }
        Member m = members.leader();
        ClientCall<EventsRequest, EventMessage> c =
                m.channel.newCall(HoldfastGrpc.getEventsMethod(), CallOptions.DEFAULT);
        call = c;
        on = m;
        ClientCalls.asyncServerStreamingCall(
                c, EventsRequest.newBuilder().setSessionId(sessionId).build(), new Observer(c, m));
    }

    private void deliver(EventMessage message) {
        switch (message.getKindCase()) {
            case STARTED -> {
                failures = 0;
                if (started || subscribeReturned) {
                    gap();
                }
                started = true;
                firstStart.countDown();
            }
            case GAP, KIND_NOT_SET -> gap(); // KIND_NOT_SET: a kind a newer server sends
            default -> {
                try {
                    listener.onEvent(Convert.fromProto(message));
                } catch (InvalidArgumentException unreadable) {
                    LOG.warn("unreadable event {}: {}", message, unreadable.getMessage());
                    gap();
                } catch (RuntimeException e) {
                    LOG.warn("an event listener failed", e);
                }
            }
        }
    }

    private void gap() {
        try {
            listener.onGap();
        } catch (RuntimeException e) {
            LOG.warn("an event listener failed on a gap", e);
        }
    }

    /**
     * The call ended: schedule the next one. Returns the leader the failure named, for the caller
     * to announce once it has let go of this lock (announcing moves other streams, whose locks must
     * not be taken while this one is held).
     */
    private Member ended(ClientCall<EventsRequest, EventMessage> c, Throwable error) {
        if (closed || call != c) {
            return null;
        }
        call = null;
        failures++;
        long delay = BACKOFF.delayBefore(Math.min(failures, 64), ThreadLocalRandom.current()::nextDouble)
                .toNanos();
        if (refusedCredentials(error)) {
            delay = Math.max(delay, REFUSED_PAUSE.toNanos());
        }
        try {
            reopen = scheduler.schedule(this::open, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException transportClosed) {
            return null; // nothing more to deliver
        }
        return error == null ? null : members.hintedLeader(error);
    }

    /** Receives one call's messages; ignores them once the call is no longer the current one. */
    private final class Observer implements StreamObserver<EventMessage> {
        private final ClientCall<EventsRequest, EventMessage> c;
        private final Member m;

        Observer(ClientCall<EventsRequest, EventMessage> c, Member m) {
            this.c = c;
            this.m = m;
        }

        @Override
        public void onNext(EventMessage message) {
            synchronized (EventStream.this) {
                if (!closed && call == c) {
                    deliver(message);
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            Member hinted;
            synchronized (EventStream.this) {
                if (closed || call != c) {
                    return;
                }
                hinted = ended(c, t);
                if (!started
                        && hinted == null
                        && Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE
                        && failures >= members.size()) {
                    firstStart.countDown();
                }
                if (refusedCredentials(t)) {
                    firstStart.countDown(); // the calls that follow are refused too, and say so
                }
            }
            if (hinted != null) {
                members.noteLeader(hinted);
            } else if (Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE) {
                m.channel.resetConnectBackoff(); // we back off ourselves: the next try should connect
                members.moveOnFrom(m);
            }
        }

        @Override
        public void onCompleted() {
            synchronized (EventStream.this) {
                ended(c, null);
            }
        }
    }

    /** Whether the member refused the stream's credentials, which do not change. */
    private static boolean refusedCredentials(Throwable error) {
        if (error == null) {
            return false;
        }
        Status.Code code = Status.fromThrowable(error).getCode();
        return code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNAUTHENTICATED;
    }
}
