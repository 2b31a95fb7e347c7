package io.holdfast.verify.history;

import java.util.Map;

/**
 * How the run was set up: scenario, seed, nodes, clients, planted bug (or null), the TTL clients
 * used, and anything else the summary shows ({@code settings}).
 */
public record Meta(
        long time,
        String scenario,
        long seed,
        int nodes,
        int clients,
        String bug,
        long sessionTtlMillis,
        Map<String, String> settings)
        implements Record {
    public Meta {
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }
}
