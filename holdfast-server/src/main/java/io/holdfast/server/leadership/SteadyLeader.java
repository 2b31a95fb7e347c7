package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Whether the cluster has had one leader, in one term, for a while: when work that only prepares for
 * a later failover (the {@link LeaderRehearsal}) may take the CPU, and when it must give it back.
 *
 * <p>{@link #look} is asked repeatedly; it says yes once the same leadership ({@code leader@term},
 * as {@code leadership} reads it) has been seen for {@code steadyMillis} on the ticker without a
 * change in between. {@link #disturbed} then says whether that leadership is gone: no leader known
 * (an election under way, this member cut off) or another leader or term.
 *
 * <p><b>Failure story.</b> A member restarted 23 s before a leader's SIGKILL began its rehearsal 3 s
 * into the failover and went on for 26 s, on the member that had just taken 26,000 of the dead
 * leader's clients (docs/benchmarks.md, 2026-12-05, run d). Asked first, the rehearsal waits for a
 * steady leader; asked between its writes, it stops when the leadership changes.
 *
 * <p>Not thread-safe: one rehearsal thread asks.
 */
final class SteadyLeader {
    private final Supplier<String> leadership;
    private final Ticker ticker;
    private final long steadyNanos;
    private String seen;
    private long since;

    /**
     * @param leadership the leader and term this member knows, as one string, or null when it knows
     *     none
     */
    SteadyLeader(Supplier<String> leadership, Ticker ticker, long steadyMillis) {
        this.leadership = leadership;
        this.ticker = ticker;
        this.steadyNanos = TimeUnit.MILLISECONDS.toNanos(steadyMillis);
    }

    /** Looks once: true when the leadership seen now has been the same for the steady time. */
    boolean look() {
        String now = leadership.get();
        long t = ticker.nanos();
        if (now == null || !now.equals(seen)) {
            seen = now;
            since = t;
            return false;
        }
        return t - since >= steadyNanos;
    }

    /** Whether the leadership seen by the last {@link #look} is gone (none now, or another). */
    boolean disturbed() {
        String now = leadership.get();
        return now == null || !Objects.equals(now, seen);
    }

    /** The leadership seen by the last {@link #look}, for a log line; null if none. */
    String seen() {
        return seen;
    }
}
