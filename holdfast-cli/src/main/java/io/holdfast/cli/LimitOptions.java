package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.core.Quotas;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The quota options of {@code holdfast server} (a picocli {@code @Mixin}): {@code --limit NAME=N},
 * the quotas while access control is off. Like every server option they also come from {@code
 * HOLDFAST_LIMIT} and the configuration file ({@code limit = NAME=N,NAME=N}). A bad name or value
 * is a usage error in one line; with {@code --auth-rules} the node refuses them too (the rules'
 * {@code limit} lines set the quotas then). See docs/security.md.
 */
final class LimitOptions {
    @Option(
            names = "--limit",
            paramLabel = "NAME=N",
            split = ",",
            description = {
                "Set a quota while access control is off (repeatable, or NAME=N,NAME=N): sessions-per-identity,"
                        + " holds-per-session, waits-per-session, waiters-per-lock, state-entries or register-bytes"
                        + " (docs/security.md). The leader brings the cluster's quotas to its own options: give"
                        + " every member the same. Not with --auth-rules, whose 'limit' lines set the quotas."
            })
    Map<String, String> limits;

    /**
     * The quotas these options set: the defaults without any.
     *
     * @throws IllegalArgumentException naming an unknown quota or a value out of its range
     */
    Quotas quotas() {
        if (limits == null || limits.isEmpty()) {
            return Quotas.DEFAULTS;
        }
        try {
            return Quotas.of(limits, "--limit: ");
        } catch (InvalidArgumentException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
