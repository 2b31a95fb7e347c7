package io.holdfast.core;

import io.holdfast.model.Command;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What a leader must propose for deadlines to pass: an {@link Command.ExpireSession} for every
 * session whose heartbeats stopped for its TTL, and a {@link Command.Tick} when the table's
 * earliest deadline (a wait's, a lease timeout's, a lock-delay's) has come. One engine for the
 * server's leader and the in-process {@code mem:} node, which differ only in how they apply what
 * is due (through Raft, or directly) and in their threads.
 *
 * <p><b>Guarantees.</b> A session is proposed for expiry once until the proposal's outcome is
 * {@linkplain #done noted}, and a tick is not proposed again while one is in flight, so a slow
 * log never fills with copies. Due commands come with the cluster time of the moment they were
 * found due, the time of their envelopes. {@link Due#parkMillis()} is how long nothing more can
 * fall due (at most {@value #MAX_PARK_MILLIS} ms, so a caller looks again now and then even if it
 * missed a wake-up).
 *
 * <p><b>Does not</b> keep time, lock, or apply anything: the caller passes its ticker's reading
 * and the table's clock and deadline, and serializes the calls (it is not thread-safe).
 *
 * <p><b>An expiry, once decided, is final on this leader.</b> From the moment a session is
 * found expired until its expiry is applied, the session {@linkplain #isExpiring is expiring}:
 * the leader acknowledges none of its heartbeats. An expiry whose proposal failed (a full queue,
 * a timeout) may still be in the log and be applied later, so it is not undone: the session is
 * proposed again when the tracker reports it again (a TTL later), until an expiry is applied or
 * a new term of leadership {@linkplain #clear begins}. The client loses nothing it could count
 * on: its leases ran out with the TTL the leader tracked.
 *
 * <p><b>A failure it prevents.</b> A heartbeat that arrived while a session's expiry was on its
 * way through the log was acknowledged (the table still had the session); the expiry was then
 * applied and the session's lock granted to another client, while the first one, counting a TTL
 * from that heartbeat, still took the lock for its own: two holders ({@code holdfast verify},
 * keys scenario, seed 2414307957).
 */
public final class DueCommands {
    /** The longest a caller waits before it looks again by itself. */
    public static final long MAX_PARK_MILLIS = 1_000;

    private final SessionTracker tracker;
    /** Sessions found expired whose expiry is not applied yet: their heartbeats are refused. */
    private final Set<String> expiring = new HashSet<>();
    /** Expiries proposed whose outcome is not known yet: not proposed again meanwhile. */
    private final Set<String> proposed = new HashSet<>();

    private boolean tickInFlight;

    /** @param tracker the sessions' heartbeat deadlines, on the caller's ticker */
    public DueCommands(SessionTracker tracker) {
        this.tracker = tracker;
    }

    /**
     * What is due now, and how long the caller may wait before it asks again.
     *
     * @param time the cluster time at which the commands fell due: the time of their envelopes
     * @param commands the commands to propose, each at {@code time}
     * @param parkMillis how long nothing more can fall due
     */
    public record Due(long time, List<Command> commands, long parkMillis) {}

    /**
     * Collects what is due.
     *
     * @param nowNanos the caller's ticker, the one the tracker's deadlines are on
     * @param clusterNowMillis the cluster time now (the time of the commands' envelopes)
     * @param nextDeadline the table's earliest deadline, in cluster ms ({@link Long#MAX_VALUE}:
     *     none)
     */
    public Due due(long nowNanos, long clusterNowMillis, long nextDeadline) {
        List<Command> due = new ArrayList<>(2);
        for (String id : tracker.expired(nowNanos)) {
            expiring.add(id);
            if (proposed.add(id)) {
                due.add(new Command.ExpireSession(id));
            }
        }
        if (nextDeadline <= clusterNowMillis && !tickInFlight) {
            tickInFlight = true;
            due.add(new Command.Tick());
        }
        long park = MAX_PARK_MILLIS;
        if (nextDeadline != Long.MAX_VALUE && !tickInFlight) {
            park = Math.min(park, nextDeadline - clusterNowMillis + 1);
        }
        long sessionNext = tracker.nextDeadline();
        if (sessionNext != Long.MAX_VALUE) {
            park = Math.min(park, TimeUnit.NANOSECONDS.toMillis(sessionNext - nowNanos) + 1);
        }
        return new Due(clusterNowMillis, due, park);
    }

    /**
     * The outcome of a due command is known.
     *
     * @param applied whether the log took it (an expiry that failed is proposed again, and its
     *     session stays {@linkplain #isExpiring expiring}: the failed proposal may yet be applied)
     */
    public void done(Command command, boolean applied) {
        if (command instanceof Command.ExpireSession x) {
            proposed.remove(x.sessionId());
            if (applied) {
                expiring.remove(x.sessionId());
                tracker.remove(x.sessionId());
            }
        } else if (command instanceof Command.Tick) {
            tickInFlight = false;
        }
    }

    /**
     * Whether the session was found expired and no expiry of it is applied yet. A heartbeat
     * must not be acknowledged meanwhile: the expiry is unconditional, and once applied it hands
     * the session's locks to others while the client, counting a TTL from that heartbeat, would
     * still take them for its own.
     */
    public boolean isExpiring(String sessionId) {
        return expiring.contains(sessionId);
    }

    /** Nothing is in flight any more (a new term of leadership begins). */
    public void clear() {
        expiring.clear();
        proposed.clear();
        tickInFlight = false;
    }
}
