package io.holdfast.verify.history;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the run was set up: scenario, seed, nodes, clients, planted bug (or null), the TTL clients
 * used, anything else the summary shows ({@code settings}), and what the scenario expects its faults
 * to show ({@code expects}, empty in a run saved without them).
 */
public record Meta(
        long time,
        String scenario,
        long seed,
        int nodes,
        int clients,
        String bug,
        long sessionTtlMillis,
        Map<String, String> settings,
        Set<Expectation> expects)
        implements Record {
    public Meta {
        settings = settings == null ? Map.of() : Map.copyOf(settings);
        expects = expects == null ? Set.of() : Set.copyOf(expects);
    }

    /** What the run's scenario expects: the first Meta's {@code expects}, or none without a Meta. */
    public static Set<Expectation> expectations(List<Record> records) {
        for (Record r : records) {
            if (r instanceof Meta m) {
                return m.expects();
            }
        }
        return Set.of();
    }
}
