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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
 * (a subscription waiting for it) does not wait; the streams that waited for the same move re-open
 * together, on one call that carries their sessions ({@link SharedOpens}). A stream whose
 * credentials the member refused ({@code PERMISSION_DENIED}, {@code UNAUTHENTICATED}: a bad, expired or revoked token, a session
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
    private final CompletableFuture<Void> firstStart = new CompletableFuture<>();
    private final SharedOpens opens;

    // Guarded by this.
    private Line call;
    private Member on;
    private ScheduledFuture<?> reopen;
    private boolean closed;
    private boolean started;
    /** Whether the pending re-open waits out {@link #REFUSED_PAUSE}. */
    private boolean refusedPause;

    private boolean subscribeReturned;
    private int failures;

    /**
     * @param scheduler runs the re-opens; once it is shut down, an ended stream stays ended
     * @param opens the gate a started stream's re-open waits for (done unless the home just moved),
     *     and the re-open of the streams that waited for it, together
     */
    EventStream(
            Members members,
            ScheduledExecutorService scheduler,
            String sessionId,
            LockService.Listener listener,
            SharedOpens opens) {
        this.members = members;
        this.scheduler = scheduler;
        this.sessionId = sessionId;
        this.listener = listener;
        this.opens = opens;
    }

    String sessionId() {
        return sessionId;
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
        try {
            startAsync(waitMillis).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            // not failed: the future only ends the wait
        }
    }

    /**
     * {@link #start} without blocking the caller: the future completes once the server delivers, or
     * after {@code waitMillis}, or at once when the wait would only spend the caller's time (as
     * {@link #start} says); never exceptionally.
     */
    CompletableFuture<Void> startAsync(long waitMillis) {
        open();
        return firstStart
                .copy()
                .completeOnTimeout(null, waitMillis, TimeUnit.MILLISECONDS)
                .whenComplete((v, e) -> {
                    synchronized (this) {
                        subscribeReturned = true;
                    }
                });
    }

    synchronized void close() {
        closed = true;
        if (reopen != null) {
            reopen.cancel(false);
        }
        if (call != null) {
            call.cancel("unsubscribed");
            call = null;
        }
        firstStart.complete(null);
    }

    /**
     * The members' leader belief changed: move there unless already there or on the way. A started
     * stream that ended just before (its member's failure made the move) waits for the move's gate
     * with the others instead of its backoff, so that they re-open together; one paused for refused
     * credentials keeps its pause.
     */
    synchronized void leaderChanged() {
        if (closed) {
            return;
        }
        if (call != null && on != members.leader()) {
            call.cancel("the leader moved");
            call = null;
            open();
        } else if (call == null && reopen != null && started && !refusedPause) {
            reopen.cancel(false);
            open();
        }
    }

    private synchronized void open() {
        reopen = null;
        if (closed || members.isClosed() || call != null) {
            return; // call: a re-open whose cancel came too late, after a move opened the stream
        }
        if (started) {
            CompletableFuture<Void> gate = opens.gate();
            if (!gate.isDone()) {
                // Only this stream's own open waits here: call is null, so no other path opens it.
                opens.join(gate, this);
                return;
            }
        }
        Member m = members.leader();
        ClientCall<EventsRequest, EventMessage> c =
                m.channel.newCall(HoldfastGrpc.getEventsMethod(), CallOptions.DEFAULT);
        Line own = why -> c.cancel(why, null);
        call = own;
        on = m;
        ClientCalls.asyncServerStreamingCall(
                c, EventsRequest.newBuilder().setSessionId(sessionId).build(), new Observer(own, m));
    }

    /**
     * Puts this stream, waiting for a move's gate, on {@code share}: its part of a call to {@code m}
     * that carries other sessions too.
     *
     * @return the observer of this session's messages on that call, or null if the stream no
     *     longer waits (closed meanwhile)
     */
    synchronized Observer attach(Line share, Member m) {
        if (closed || call != null || members.isClosed()) {
            return null;
        }
        call = share;
        on = m;
        return new Observer(share, m);
    }

    /** A move's gate opened, and this stream re-opens on a call of its own after all. */
    synchronized void openAlone() {
        if (call == null && reopen == null) {
            open();
        }
    }

    private void deliver(EventMessage message) {
        switch (message.getKindCase()) {
            case STARTED -> {
                failures = 0;
                if (started || subscribeReturned) {
                    gap();
                }
                started = true;
                firstStart.complete(null);
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
    private Member ended(Line c, Throwable error) {
        if (closed || call != c) {
            return null;
        }
        call = null;
        failures++;
        long delay = BACKOFF.delayBefore(Math.min(failures, 64), ThreadLocalRandom.current()::nextDouble)
                .toNanos();
        refusedPause = refusedCredentials(error);
        if (refusedPause) {
            delay = Math.max(delay, REFUSED_PAUSE.toNanos());
        }
        try {
            reopen = scheduler.schedule(this::open, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException transportClosed) {
            return null; // nothing more to deliver
        }
        return error == null ? null : members.hintedLeader(error);
    }

    /** This stream's part of a call: its own, or its session's on a shared one ({@link SharedOpens}). */
    interface Line {
        /** Lets go of the call: cancels it, or a shared call once none of its sessions is left on it. */
        void cancel(String why);
    }

    /** Receives one call's messages; ignores them once the call is no longer the current one. */
    final class Observer implements StreamObserver<EventMessage> {
        private final Line c;
        private final Member m;

        Observer(Line c, Member m) {
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
                    firstStart.complete(null);
                }
                if (refusedCredentials(t)) {
                    firstStart.complete(null); // the calls that follow are refused too, and say so
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
