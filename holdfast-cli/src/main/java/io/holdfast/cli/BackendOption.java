package io.holdfast.cli;

import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The {@code --backend URI} option of the commands that talk to a backend (a picocli {@code @Mixin}): the
 * flag, else {@code $HOLDFAST_BACKEND}, else {@code holdfast://127.0.0.1:4653}. {@link Main} hands it the
 * environment before a command runs, commands found at run time ({@link CliCommand}) included.
 *
 * <p>Not guaranteed: that the backend is reachable; {@link #open()} finds out. Failure story: {@code --backend
 * nosuch://x} (or the same in the environment) names no provider in the build; {@link #open()} fails with one
 * line naming the providers there are ({@link ExitCodes#USAGE}), before the command starts anything.
 */
public final class BackendOption implements Main.NeedsEnvironment {
    @Option(
            names = "--backend",
            paramLabel = "URI",
            description = "Where the locks live (default: $HOLDFAST_BACKEND, else " + Backends.DEFAULT + ").")
    String backend;

    private Map<String, String> env = Map.of();

    /** For {@link Main} only: the process environment, or the one a test stands in. */
    @Override
    public void environment(Map<String, String> env) {
        this.env = env;
    }

    /** The backend's URI: the flag, the environment, or the default. An empty flag is a usage error. */
    public String uri() {
        return Backends.resolve(backend, env);
    }

    /**
     * A client of {@link #uri()}, which the caller closes. No provider for the URI is a {@link CliFailure} with
     * {@link ExitCodes#USAGE}; an unreachable backend fails as {@link io.holdfast.LockClient#open} does, which
     * {@link Main} reports as {@link ExitCodes#BACKEND_UNAVAILABLE}.
     */
    public io.holdfast.LockClient open() {
        return Backends.open(uri());
    }
}
