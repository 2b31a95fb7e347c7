package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The refusals of the leader's lease check ({@link RaftGateway#holdsLease}): each one counted by
 * what it refused (for {@code holdfast_lease_check_refusals_total{request}} and the JSON API's
 * status), and logged at WARN in one line that says what was refused, how long ago a majority of
 * the voters answered, and the lease's length.
 *
 * <p><b>Guarantees.</b> Every refusal is counted, whether or not it is logged. At most one line is
 * logged per second of the injected {@link Ticker}; the next line logged says how many refusals
 * were left out since the one before. Counting and logging never block the refused request
 * beyond a short lock.
 *
 * <p><b>Does not</b> decide whether to refuse (the gateway does), keep its counts across a
 * restart (they start at zero with the node), or report refusals left out after the last line
 * until another refusal comes (the counter has them).
 *
 * <p><b>A failure it makes visible.</b> On a starved machine (CPU stolen, long pauses) a leader's
 * followers seem to answer late, so the leader refuses heartbeats and reads while it still leads;
 * clients fail over to another member and come back, and before this nothing said why or how
 * often. A leader that refuses every heartbeat of thousands of sessions logs one line a second,
 * not thousands.
 */
public final class LeaseRefusals {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseRefusals.class);
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** What the lease check refused. */
    public enum Refused {
        /** A read that must be current (a read barrier passed, then the check failed). */
        READ("serve a read that must be current"),
        /** A session's heartbeat, which the leader may acknowledge only while it holds its lease. */
        HEARTBEAT("vouch for sessions");

        /** What the node cannot do, for the caller's error. */
        final String cannot;

        Refused(String cannot) {
            this.cannot = cannot;
        }

        /** The metric's label value and the JSON API's key. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String nodeId;
    private final Ticker ticker;
    private final Map<Refused, LongAdder> counts = new EnumMap<>(Refused.class);
    // Guarded by this: whether a line was logged yet, when, and the refusals not logged since.
    private boolean logged;
    private long loggedAt;
    private long unlogged;

    public LeaseRefusals(String nodeId, Ticker ticker) {
        this.nodeId = nodeId;
        this.ticker = ticker;
        for (Refused r : Refused.values()) {
            counts.put(r, new LongAdder());
        }
    }

    /**
     * Counts one refusal, and logs it unless a line was logged less than a second ago.
     *
     * @param sinceMajorityMillis how long ago a majority of the voters had all answered the
     *     leader; {@link Long#MAX_VALUE} if a majority never did, negative if Ratis no longer
     *     counts this node the leader
     */
    void refused(Refused what, long sinceMajorityMillis, long leaseMillis) {
        counts.get(what).increment();
        long leftOut;
        synchronized (this) {
            long now = ticker.nanos();
            if (logged && now - loggedAt < LOG_EVERY_NANOS) {
                unlogged++;
                return;
            }
            logged = true;
            loggedAt = now;
            leftOut = unlogged;
            unlogged = 0;
        }
        LOG.atWarn()
                .addKeyValue("event", "lease-check-refused")
                .addKeyValue("node", nodeId)
                .addKeyValue("refused", what.label())
                .addKeyValue("sinceMajorityMillis", sinceMajorityMillis)
                .addKeyValue("leaseMillis", leaseMillis)
                .addKeyValue("notLogged", leftOut)
                .log(
                        "Node {} refused a {}: {}, and its lease is {} ms{}",
                        nodeId,
                        what.label(),
                        since(sinceMajorityMillis),
                        leaseMillis,
                        leftOut == 0
                                ? ""
                                : " (" + leftOut + " more refusal" + (leftOut == 1 ? "" : "s")
                                        + " since the last such line were not logged)");
    }

    private static String since(long millis) {
        if (millis < 0) {
            return "Ratis no longer counts it the leader";
        }
        if (millis == Long.MAX_VALUE) {
            return "no majority of its voters has answered it since it became leader";
        }
        return "a majority of its voters last answered it " + millis + " ms ago";
    }

    /** The refusals of this kind since the node started. */
    public long count(Refused what) {
        return counts.get(what).sum();
    }

    /** The refusals since the node started, every kind (zero included), keyed by label. */
    public Map<String, Long> counts() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Refused r : Refused.values()) {
            out.put(r.label(), count(r));
        }
        return out;
    }
}
