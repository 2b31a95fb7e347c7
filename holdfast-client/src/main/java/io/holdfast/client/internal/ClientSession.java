package io.holdfast.client.internal;

import io.holdfast.ClientOptions;
import io.holdfast.ErrorCode;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnavailableException;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One client session as the client sees it: its id, whether it is open, and its heartbeats.
 *
 * <p><b>Guarantees.</b> The session is open until it is {@linkplain #close closed} or it expires,
 * and it expires at most once. It expires when the service says it no longer knows it, or when no
 * heartbeat has been acknowledged for a whole TTL, measured from the <em>sending</em> of the last
 * acknowledged one: that is no later than the service's own measure (it counts from the
 * heartbeat's arrival), so {@link #validUntilNanos} never promises a moment the service has
 * already let go of. A heartbeat that a member does not answer within two intervals is given up
 * on, so the next one can go to another member.
 *
 * <p><b>Does not</b> open or close the session with the service: the runtime sends those
 * commands. It starts beating once {@linkplain #opened opened}.
 *
 * <p><b>A failure it handles.</b> A leader cut off without a reset keeps accepting connections and
 * answers nothing: heartbeats to it time out after two intervals each, the runtime's transport
 * moves to another member, and the session expires here only if no member acknowledged one for a
 * whole TTL, which is the moment the service itself may expire it.
 */
final class ClientSession {
    private enum State {
        OPEN,
        EXPIRED,
        CLOSED
    }

    private final String id;
    private final LockService transport;
    private final ClientOptions options;
    private final ClientThreads threads;
    private final long ttlNanos;
    private final Consumer<String> onExpiry;
    private volatile State state = State.OPEN;
    /** Why the session expired here, once it did. */
    private volatile String expiredBecause;

    private volatile boolean severed;
    private volatile long lastAckNanos;

    /**
     * @param id the session's id, from {@link io.holdfast.model.SessionIds#newId}
     * @param onExpiry told once, with the reason, when the session expires here
     */
    ClientSession(
            String id, LockService transport, ClientOptions options, ClientThreads threads, Consumer<String> onExpiry) {
        this.id = id;
        this.transport = transport;
        this.options = options;
        this.threads = threads;
        this.ttlNanos = options.sessionTtl().toNanos();
        this.onExpiry = onExpiry;
    }

    String id() {
        return id;
    }

    boolean isOpen() {
        return state == State.OPEN;
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    /** Cut off as if the process had died (a test hook): nothing more is sent. */
    boolean isSevered() {
        return severed;
    }

    void sever() {
        severed = true;
    }

    /** @throws SessionExpiredException if the session is closed or expired (naming why it expired) */
    void ensureOpen() {
        if (state != State.OPEN) {
            String lost = lost();
            throw new SessionExpiredException(lost == null ? "the client was closed" : lost);
        }
    }

    /**
     * Why the session is gone when it expired here ({@code the session ID expired: WHY}), not
     * closed by its owner; null while it is open or once its owner closed it.
     */
    String lost() {
        String why = expiredBecause;
        return state == State.EXPIRED && why != null ? "the session " + id + " expired: " + why : null;
    }

    /**
     * The service acknowledged the opening, sent at {@code sentNanos}: heartbeats start.
     */
    void opened(long sentNanos) {
        lastAckNanos = sentNanos;
        scheduleHeartbeat(nextBeatMillis());
    }

    /**
     * The moment until which the service keeps the session at least: its TTL from the sending of
     * the last acknowledged heartbeat. A new leader gives every session a fresh TTL, so until then
     * no other client can be granted what this session holds.
     */
    long validUntilNanos() {
        return lastAckNanos + ttlNanos;
    }

    /** Marks the session closed; true if it was open (then the runtime tells the service). */
    boolean close() {
        boolean wasOpen = state == State.OPEN;
        state = State.CLOSED;
        return wasOpen;
    }

    /** Ends the session here, once; tells the runtime why. */
    void expire(String why) {
        synchronized (this) {
            if (state != State.OPEN) {
                return;
            }
            expiredBecause = why;
            state = State.EXPIRED;
        }
        onExpiry.accept(why);
    }

    private long heartbeatInterval() {
        return Math.max(50, options.sessionTtl().toMillis() / 4);
    }

    /**
     * How long until the next heartbeat: an interval, brought forward to a grid of a quarter
     * interval on the client's ticker. Sessions with the same TTL then fall due at the same
     * moments, whenever each was opened, and a connection's heartbeats go together in a few calls
     * an interval ({@link HeartbeatBatches}) instead of one each. A heartbeat is never later than
     * an interval after the last, and at most a quarter interval earlier (earlier is always safe:
     * the TTL counts from each heartbeat's sending).
     */
    private long nextBeatMillis() {
        long interval = heartbeatInterval();
        long grid = Math.max(1, interval / 4);
        long now = TimeUnit.NANOSECONDS.toMillis(options.ticker().nanos());
        long due = now + interval;
        return Math.max(1, due - Math.floorMod(due, grid) - now);
    }

    private void scheduleHeartbeat(long delayMillis) {
        if (state == State.OPEN) {
            threads.schedule(this::heartbeat, delayMillis);
        }
    }

    private void heartbeat() {
        if (state != State.OPEN) {
            return;
        }
        long sent = options.ticker().nanos();
        CompletableFuture<Reply> beat = severed
                ? CompletableFuture.failedFuture(new UnavailableException("cut off"))
                : transport
                        .keepAlive(id, Duration.ofMillis(heartbeatInterval() * 2))
                        .orTimeout(heartbeatInterval() * 2 + 100, TimeUnit.MILLISECONDS);
        beat.whenComplete((reply, error) -> {
            if (error == null && reply instanceof Reply.Ok) {
                lastAckNanos = Math.max(lastAckNanos, sent);
                scheduleHeartbeat(nextBeatMillis());
            } else if (error == null && reply instanceof Reply.Failed f && f.code() == ErrorCode.SESSION_EXPIRED) {
                expire("the service no longer knows the session");
            } else if (options.ticker().nanos() - lastAckNanos >= ttlNanos) {
                expire("no heartbeat was acknowledged for a whole TTL ("
                        + io.holdfast.internal.DurationText.format(options.sessionTtl()) + ")");
            } else {
                long left = TimeUnit.NANOSECONDS.toMillis(
                        ttlNanos - (options.ticker().nanos() - lastAckNanos));
                scheduleHeartbeat(Math.max(1, Math.min(100, left)));
            }
        });
    }

    @Override
    public String toString() {
        return id + ", " + state;
    }
}
