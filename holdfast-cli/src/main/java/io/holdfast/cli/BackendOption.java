package io.holdfast.cli;

import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The {@code --backend URI} option of the commands that talk to a backend (a picocli mixin): the
 * flag, else {@code $HOLDFAST_BACKEND}, else {@value Backends#DEFAULT}; see {@link Backends#resolve}.
 */
final class BackendOption implements Main.NeedsEnvironment {
    @Option(
            names = "--backend",
            paramLabel = "URI",
            description = "Where the locks live (default: $HOLDFAST_BACKEND, else " + Backends.DEFAULT + ").")
    String backend;

    private Map<String, String> env = Map.of();

    @Override
    public void environment(Map<String, String> env) {
        this.env = env;
    }

    /** The backend's URI: the flag, the environment, or the default. */
    String uri() {
        return Backends.resolve(backend, env);
    }
}
