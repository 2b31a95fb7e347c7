package io.holdfast.client.internal;

import io.grpc.CallOptions;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.holdfast.client.internal.Members.Member;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.KeepAliveRequest;
import io.holdfast.protocol.v1.ReplyMessage;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A transport whose home failed it goes back to the home it picked once that member serves again
 * (ADR 0003, "Back to the picked home"), so that a fleet spread at random over the members is
 * spread again after a member's restart, instead of leaving the returned member empty and its
 * share on the others (where the next kill then moves twice as many sessions).
 *
 * <p><b>Guarantees.</b> Nothing runs while the transport is at the member it picked: checks start
 * when the home moves away ({@link #movedAway}) and end when it is back (or follows the leader).
 * While away, every {@link #MEAN_INTERVAL} or so (uniformly between half and one and a half times
 * it, so that a fleet's returns to a member spread over seconds instead of arriving together) one
 * heartbeat for one of the transport's sessions goes to the picked member alone, within the call
 * timeout; only an acknowledgement ({@link Reply.Ok}) moves the home back. An acknowledgement at a
 * follower is the leader's (the follower relays and answers when the leader has: ADR 0003), so the
 * member is up and reaches a leader that holds its lease. One probe at a time; a probe's answer is
 * not counted as the session's heartbeat (the session's own keep it; ignoring an acknowledgement is
 * always safe).
 *
 * <p><b>Does not guarantee</b> that the member has applied everything when the home returns: a
 * member still catching up acknowledges heartbeats (the leader vouches) while its answers to
 * writes and waits wait for its apply, as after any move. Nor that the fleet ends evenly spread: a
 * transport that never picked the member does not move to it.
 *
 * <p><b>Failure story.</b> The picked member comes back, acknowledges a probe, and fails again a
 * second later: the transport moves on as after any failure and probes again a check later, so a
 * flapping member costs its clients one move each way per check at most, never a lost session
 * (every move keeps the session: its heartbeats go to the new home first).
 */
final class ReturnHome {
    /** About how often a transport away from its picked home asks that member again. */
    static final Duration MEAN_INTERVAL = Duration.ofSeconds(5);

    private final Members members;
    private final ScheduledExecutorService timer;
    private final Duration callTimeout;
    /** The latest session the transport sent a heartbeat for: the probes' session. */
    private volatile String session;

    private final AtomicBoolean checking = new AtomicBoolean();
    private final AtomicInteger returns = new AtomicInteger();
    private final AtomicInteger probes = new AtomicInteger();

    ReturnHome(Members members, ScheduledExecutorService timer, Duration callTimeout) {
        this.members = members;
        this.timer = timer;
        this.callTimeout = callTimeout;
    }

    /** The transport sends a heartbeat for this session: probes may send one for it too. */
    void sawSession(String sessionId) {
        session = sessionId;
    }

    /** The home changed: while it is away from the picked member, checks run (one chain of them). */
    void movedAway() {
        if (members.awayFromPicked() && checking.compareAndSet(false, true)) {
            schedule();
        }
    }

    /** How many times the home went back to the picked member. */
    int returns() {
        return returns.get();
    }

    /** How many probes have been answered or have failed (tests wait for them). */
    int probes() {
        return probes.get();
    }

    private void schedule() {
        long mean = MEAN_INTERVAL.toMillis();
        long delay = mean / 2 + ThreadLocalRandom.current().nextLong(mean);
        try {
            timer.schedule(this::check, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            checking.set(false);
        }
    }

    private void check() {
        if (members.isClosed()) {
            return; // the chain ends with the transport
        }
        if (!members.awayFromPicked()) {
            checking.set(false);
            if (members.awayFromPicked()) {
                movedAway(); // moved away again between the test and the flag
            }
            return;
        }
        Member picked = members.picked();
        String s = session;
        if (s == null) {
            schedule();
            return;
        }
        probe(picked, s).whenComplete((reply, error) -> {
            probes.incrementAndGet();
            if (error == null && reply instanceof Reply.Ok && members.returnToPicked()) {
                returns.incrementAndGet();
            }
            schedule(); // the next check ends the chain if the home is back
        });
    }

    /** One heartbeat at {@code m} alone: no redirect, no move on failure. */
    private CompletableFuture<Reply> probe(Member m, String sessionId) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        try {
            // The channel to a member that was down backs off its reconnects (up to two minutes),
            // and fails calls at once meanwhile: the probe connects now, and waits for that.
            m.channel.resetConnectBackoff();
            ClientCalls.asyncUnaryCall(
                    m.channel.newCall(
                            HoldfastGrpc.getKeepAliveMethod(),
                            CallOptions.DEFAULT
                                    .withWaitForReady()
                                    .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)),
                    KeepAliveRequest.newBuilder().setSessionId(sessionId).build(),
                    new StreamObserver<ReplyMessage>() {
                        @Override
                        public void onNext(ReplyMessage value) {
                            reply.complete(Convert.fromProto(value));
                        }

                        @Override
                        public void onError(Throwable t) {
                            reply.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                            reply.completeExceptionally(new IllegalStateException("no answer"));
                        }
                    });
        } catch (RuntimeException closed) { // a channel shut down by the transport's close
            reply.completeExceptionally(closed);
        }
        return reply;
    }
}
