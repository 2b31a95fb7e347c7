package io.holdfast.cli;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast lock NAME [options] -- COMMAND...}: runs COMMAND while holding the lock NAME, like
 * {@code flock(1)} across machines.
 */
@Command(
        name = "lock",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Run COMMAND while holding the lock NAME.",
            "The child gets HOLDFAST_LOCK_NAME and HOLDFAST_FENCING_TOKEN in its environment.",
            "Exit code: the child's own; 75 not acquired in time; 76 lock lost while running (the child"
                    + " was stopped); 69 backend unavailable; 64 usage error."
        })
final class LockCommand implements Callable<Integer>, Main.NeedsEnvironment {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The lock's name, e.g. jobs/nightly.")
    String name;

    @Parameters(
            index = "1..*",
            arity = "1..*",
            paramLabel = "COMMAND",
            description = "The command to run and its arguments; put -- before it.")
    List<String> command;

    @Option(
            names = "--wait",
            paramLabel = "DURATION",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description = "How long to wait for the lock (default: ${DEFAULT-VALUE}); 0s tries once.")
    Duration wait;

    @Option(names = "--shared", description = "Take the lock in shared (read) mode.")
    boolean shared;

    @Option(
            names = "--lease-timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Take the lock back if this process stops renewing it for this long.")
    Duration leaseTimeout;

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

    @Override
    public Integer call() {
        String uri = Backends.resolve(backend, env);
        spec.commandLine()
                .getErr()
                .println("holdfast lock: not yet available (it arrives with the client API); backend would be " + uri);
        return ExitCodes.NOT_AVAILABLE;
    }
}
