package io.holdfast.verify.run;

import io.holdfast.verify.history.CaughtUp;
import io.holdfast.verify.history.History;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Measures how long each replica takes to catch up after a heal: takes the leader's commit index
 * as of the heal, then polls every member's {@code /status} (on its HTTP port, which the harness
 * reaches directly) until each shows an applied index at least that high, and records one {@link
 * CaughtUp} per member.
 *
 * <p><b>Guarantees.</b> Every member gets exactly one record per measurement: caught up, with the
 * time it was first seen so (late by at most one poll and one answer), or not caught up when the
 * wait ended. The search for a leader ends at {@link #WAIT} after the heal; the catch-up's wait
 * ends {@link #WAIT} after a leader was first seen, twice the {@code heal-catch-up} checker's limit,
 * so a slow catch-up is recorded as slow rather than cut short. Each record says when the leader was
 * first seen, so that the checker counts catching up from then, not the election before it.
 *
 * <p><b>Not guaranteed.</b> It measures the applied index only, not that the tables agree (the
 * {@code replicas} and {@code applied} checkers do). It blocks its caller: the nemesis that asks
 * injects no fault meanwhile, so each heal is measured on its own rather than cut short by the next
 * partition. A failure story: a leader whose appenders back off for seconds after a long outage
 * leaves a healed follower behind; the record says how far behind and for how long.
 */
final class HealCatchUp {
    /** How long after the heal the harness waits at most. */
    static final Duration WAIT = Duration.ofSeconds(10);

    /** Between two rounds of polls. */
    private static final Duration POLL = Duration.ofMillis(20);

    private final Nodes nodes;
    private final History.Writer out;

    HealCatchUp(Nodes nodes, History.Writer out) {
        this.nodes = nodes;
        this.out = out;
    }

    /**
     * Measures the catch-up of every member after a heal at {@code healed} ({@link System#nanoTime()});
     * returns once every member caught up or {@link #WAIT} has passed since the heal.
     */
    void measure(long healed) throws InterruptedException {
        long deadline = healed + WAIT.toNanos();
        String leader = null;
        long target = -1;
        Long leaderSeen = null;
        while (leader == null && System.nanoTime() < deadline) {
            Optional<String> l = nodes.leader();
            if (l.isPresent()) {
                Optional<Nodes.Status> st = nodes.status(l.get());
                if (st.isPresent() && "leader".equals(st.get().role())) {
                    leader = l.get();
                    target = st.get().commitIndex();
                    leaderSeen = System.nanoTime();
                    deadline = leaderSeen + WAIT.toNanos(); // the catch-up gets its whole wait
                    continue;
                }
            }
            Thread.sleep(POLL.toMillis());
        }
        List<String> members = nodes.ids();
        Map<String, Long> last = new LinkedHashMap<>();
        Set<String> done = new HashSet<>();
        members.forEach(m -> last.put(m, -1L));
        while (leader != null && done.size() < members.size() && System.nanoTime() < deadline) {
            for (String m : members) {
                if (done.contains(m)) {
                    continue;
                }
                Optional<Nodes.Status> st = nodes.status(m);
                if (st.isPresent()) {
                    long applied = st.get().appliedIndex();
                    last.put(m, applied);
                    if (applied >= target) {
                        done.add(m);
                        out.append(
                                new CaughtUp(System.nanoTime(), m, healed, leader, target, applied, true, leaderSeen));
                    }
                }
            }
            if (done.size() < members.size()) {
                Thread.sleep(POLL.toMillis());
            }
        }
        long now = System.nanoTime();
        for (String m : members) {
            if (!done.contains(m)) {
                out.append(new CaughtUp(now, m, healed, leader, target, last.get(m), false, leaderSeen));
            }
        }
    }
}
