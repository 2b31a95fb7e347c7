package io.holdfast.client.internal;

import io.grpc.Status;
import io.holdfast.Ticker;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.KeepAliveManyRequest;
import io.holdfast.protocol.v1.KeepAliveRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The heartbeats of one transport's sessions, sent together: a heartbeat waits up to {@value
 * #LINGER_MILLIS} ms for others, and those due within that time go to the member in one call
 * ({@code KeepAliveMany}) instead of one call each. Sessions acknowledged together schedule their
 * next heartbeats together, so a connection's sessions gather into a few such calls per heartbeat
 * interval, however many sessions it carries (Chubby's paper: KeepAlives dominate a cell's
 * requests).
 *
 * <p><b>Guarantees.</b>
 *
 * <ul>
 *   <li>Each heartbeat is answered as a single {@code KeepAlive} would be: with its session's
 *       reply, or failed with the exception its session's refusal stands for; or it fails with the
 *       call's failure (a member that cannot serve heartbeats fails them all, and each session asks
 *       again, as after a failed single heartbeat).
 *   <li>A heartbeat is sent at most {@value #LINGER_MILLIS} ms after it was asked for, and at once
 *       when {@value #MAX_PER_CALL} are waiting. The session counts its TTL from the moment it asked,
 *       which is before the sending, so the wait costs its margin that much and is never counted
 *       in its favour.
 *   <li>A member that does not know the call (an older server: {@code UNIMPLEMENTED}) is sent the
 *       heartbeats one call each, at once and for the next {@value #SINGLES_FOR_SECONDS} s, then
 *       the call is tried again (a rolling upgrade may have reached it).
 * </ul>
 *
 * <p><b>Does not</b> decide where a call goes or retry it: the sender does (the transport's home,
 * redirects and deadline). Thread-safe.
 *
 * <p><b>Failure story.</b> 1,000 sessions share a connection whose home member dies: the call in
 * flight fails for all of them at once, each session asks again within 100 ms, and those asks
 * gather into a call that the transport sends to the next member.
 */
final class HeartbeatBatches {
    /** How long a heartbeat waits for others to go with it. */
    static final long LINGER_MILLIS = 20;
    /** The most heartbeats in one call (the server takes up to 10,000). */
    static final int MAX_PER_CALL = 1_000;
    /** How long heartbeats go one call each after a member did not know the call. */
    static final long SINGLES_FOR_SECONDS = 60;

    /** How heartbeats are sent: together, or one alone. */
    interface Sender {
        /** One reply per session, in order; fails as a whole when the member could not serve them. */
        CompletableFuture<List<Reply>> many(List<String> sessionIds, Duration timeout);

        CompletableFuture<Reply> one(String sessionId, Duration timeout);
    }

    private record Pending(String sessionId, Duration timeout, CompletableFuture<Reply> reply) {}

    private final Sender sender;
    private final ScheduledExecutorService scheduler;
    private final Ticker ticker;

    private List<Pending> pending = new ArrayList<>(); // guarded by this
    private boolean flushScheduled; // guarded by this
    /** Until when ({@link Ticker#nanos}) heartbeats go one call each; meaningful while {@link #singles}. */
    private volatile long singlesUntil;

    private volatile boolean singles;

    /**
     * Heartbeats sent to the members as {@link RedirectingCall}s: to the home, moved by a failure
     * as the home moves, within the call timeout (or the heartbeat's, if shorter), and without a
     * leader search (a session asks again within 100 ms of a failed heartbeat by itself, and
     * counts its TTL from each one's asking, so a heartbeat held in a search would only date its
     * acknowledgement back).
     */
    static HeartbeatBatches overMembers(Members members, ScheduledExecutorService scheduler, Duration callTimeout) {
        return new HeartbeatBatches(
                new Sender() {
                    @Override
                    public CompletableFuture<List<Reply>> many(List<String> sessionIds, Duration timeout) {
                        return RedirectingCall.send(
                                members,
                                scheduler,
                                HoldfastGrpc.getKeepAliveManyMethod(),
                                KeepAliveManyRequest.newBuilder()
                                        .addAllSessionIds(sessionIds)
                                        .build(),
                                true,
                                r -> {
                                    List<Reply> replies = new ArrayList<>(r.getRepliesCount());
                                    r.getRepliesList().forEach(m -> replies.add(Convert.fromProto(m)));
                                    return replies;
                                },
                                shorter(timeout, callTimeout),
                                Duration.ZERO);
                    }

                    @Override
                    public CompletableFuture<Reply> one(String sessionId, Duration timeout) {
                        return RedirectingCall.send(
                                members,
                                scheduler,
                                HoldfastGrpc.getKeepAliveMethod(),
                                KeepAliveRequest.newBuilder()
                                        .setSessionId(sessionId)
                                        .build(),
                                true,
                                Convert::fromProto,
                                shorter(timeout, callTimeout),
                                Duration.ZERO);
                    }
                },
                scheduler,
                Ticker.system());
    }

    private static Duration shorter(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    /**
     * @param scheduler where the linger's timer runs (the transport's)
     * @param ticker the clock of the singles' window
     */
    HeartbeatBatches(Sender sender, ScheduledExecutorService scheduler, Ticker ticker) {
        this.sender = sender;
        this.scheduler = scheduler;
        this.ticker = ticker;
    }

    /** A heartbeat for the session, sent with the others due within the linger. */
    CompletableFuture<Reply> beat(String sessionId, Duration timeout) {
        if (singles) {
            if (ticker.nanos() - singlesUntil < 0) {
                return sender.one(sessionId, timeout);
            }
            singles = false;
        }
        Pending p = new Pending(sessionId, timeout, new CompletableFuture<>());
        boolean full;
        boolean schedule = false;
        synchronized (this) {
            pending.add(p);
            full = pending.size() >= MAX_PER_CALL;
            if (!full && !flushScheduled) {
                flushScheduled = true;
                schedule = true;
            }
        }
        if (full) {
            flush();
        } else if (schedule) {
            try {
                scheduler.schedule(this::flush, LINGER_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                flush();
            }
        }
        return p.reply();
    }

    /** Heartbeats for these sessions in one call, now (no linger): the sender's answer as it is. */
    CompletableFuture<List<Reply>> many(List<String> sessionIds, Duration timeout) {
        return sender.many(sessionIds, timeout);
    }

    /** Sends what waits, in calls of at most {@value #MAX_PER_CALL}. */
    void flush() {
        List<Pending> batch;
        synchronized (this) {
            batch = pending;
            pending = new ArrayList<>();
            flushScheduled = false;
        }
        for (int from = 0; from < batch.size(); from += MAX_PER_CALL) {
            send(batch.subList(from, Math.min(batch.size(), from + MAX_PER_CALL)));
        }
    }

    private void send(List<Pending> batch) {
        List<String> ids = new ArrayList<>(batch.size());
        Duration timeout = batch.get(0).timeout();
        for (Pending p : batch) {
            ids.add(p.sessionId());
            if (p.timeout().compareTo(timeout) < 0) {
                timeout = p.timeout();
            }
        }
        CompletableFuture<List<Reply>> sent;
        try {
            sent = sender.many(ids, timeout);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((replies, error) -> {
            if (error == null && replies.size() == batch.size()) {
                for (int i = 0; i < batch.size(); i++) {
                    answer(batch.get(i).reply(), replies.get(i));
                }
            } else if (error != null && unknownCall(error)) {
                singlesUntil = ticker.nanos() + TimeUnit.SECONDS.toNanos(SINGLES_FOR_SECONDS);
                singles = true;
                for (Pending p : batch) {
                    sender.one(p.sessionId(), p.timeout()).whenComplete((r, e) -> {
                        if (e != null) {
                            p.reply().completeExceptionally(e);
                        } else {
                            p.reply().complete(r);
                        }
                    });
                }
            } else {
                Throwable why = error != null
                        ? GrpcErrors.unwrap(error)
                        : new io.holdfast.UnavailableException(
                                "the member answered " + replies.size() + " heartbeats of " + batch.size());
                batch.forEach(p -> p.reply().completeExceptionally(why));
            }
        });
    }

    /**
     * A session's reply in a call of several, as a single heartbeat would have it: a refusal that
     * {@code KeepAlive} answers with a status (another identity's session, its expiry under way, a
     * leader that does not track it yet) fails the heartbeat with the exception it stands for; an
     * acknowledgement, or the session's end ({@code SESSION_EXPIRED}), is the reply.
     */
    private static void answer(CompletableFuture<Reply> heartbeat, Reply reply) {
        if (reply instanceof Reply.Failed f && f.code() != io.holdfast.ErrorCode.SESSION_EXPIRED) {
            heartbeat.completeExceptionally(f.code().toException(f.message()));
        } else {
            heartbeat.complete(reply);
        }
    }

    /** Whether a member answered that it does not know the call. */
    private static boolean unknownCall(Throwable error) {
        return Status.fromThrowable(GrpcErrors.unwrap(error)).getCode() == Status.Code.UNIMPLEMENTED;
    }
}
