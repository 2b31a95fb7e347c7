package io.holdfast.client.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * After a transport's home (or its leader belief) moves, its heartbeats reach the new member before
 * its event streams do: {@link #gate()} is done once the new member has answered a heartbeat, or
 * once {@link #AT_MOST} has passed, and a started {@link EventStream} re-opens only then.
 *
 * <p><b>Why.</b> Heartbeats keep the sessions alive; event streams only deliver, and a re-opened
 * stream reports a gap after which the runtime asks again, so a stream opened late loses nothing.
 * When a member died with 10,000 sessions on ten connections, the 10,000 stream opens that reached
 * the member they moved to ahead of the heartbeats held its answers to them 1 to 2 s longer than
 * the other survivor's; with the re-opens held back, both answered together (docs/benchmarks.md,
 * 2026-12-03).
 *
 * <p><b>Guarantees.</b> {@link #moved} sends one heartbeat, for one session of the transport, at
 * once: it joins the sessions' own heartbeats in their batch ({@link HeartbeatBatches}), so a
 * fleet's move costs no extra call, and a single idle session's stream waits one round trip, not
 * its next heartbeat. The gate opens on that heartbeat's answer, a refusal or a failure alike (a
 * member that failed it moves the home again, which makes a new gate), and at the latest {@link
 * #AT_MOST} after the move. Each move makes a new gate; a stream waits for the one current when it
 * re-opens.
 *
 * <p><b>Does not</b> hold anything but the re-opens of streams that had started: a subscription's
 * first stream opens at once (its caller waits for it), and calls are never held.
 *
 * <p><b>Failure story.</b> The new home is cut off from the leader and holds heartbeats without a
 * verdict: the streams open {@link #AT_MOST} after the move, as they would have without the gate
 * but later, and deliver once the member can.
 */
final class HeartbeatsFirst {
    /** The longest a started stream waits after a move for the new member to answer a heartbeat. */
    static final Duration AT_MOST = Duration.ofSeconds(2);

    private final HeartbeatBatches heartbeats;
    private final ScheduledExecutorService scheduler;
    private final Duration callTimeout;
    private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

    HeartbeatsFirst(HeartbeatBatches heartbeats, ScheduledExecutorService scheduler, Duration callTimeout) {
        this.heartbeats = heartbeats;
        this.scheduler = scheduler;
        this.callTimeout = callTimeout;
    }

    /** The gate of the latest move: done unless a move's heartbeat is still unanswered. */
    CompletableFuture<Void> gate() {
        return gate;
    }

    /**
     * The home moved: a new gate, opened by the answer to a heartbeat for {@code probeSession} (null
     * when the transport has no stream: then nothing waits, and the gate is done).
     */
    void moved(String probeSession) {
        CompletableFuture<Void> heard = new CompletableFuture<>();
        gate = heard;
        if (probeSession == null) {
            heard.complete(null);
            return;
        }
        try {
            scheduler.schedule(() -> heard.complete(null), AT_MOST.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            heard.complete(null);
            return;
        }
        heartbeats.beat(probeSession, callTimeout).whenComplete((reply, error) -> heard.complete(null));
    }
}
