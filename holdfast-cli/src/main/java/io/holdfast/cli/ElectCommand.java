package io.holdfast.cli;

import io.holdfast.AcquireOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Leadership;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.Names;
import io.holdfast.UnsupportedFeatureException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast elect NAME [--value V] [options] -- COMMAND...}: campaigns in the election NAME
 * ({@link io.holdfast.Election}) and, once elected, runs COMMAND while this process leads. The child
 * gets {@code HOLDFAST_ELECTION}, {@code HOLDFAST_EPOCH} (also as {@code HOLDFAST_FENCING_TOKEN}) and
 * {@code HOLDFAST_LEADER_VALUE}.
 *
 * <p>Connecting and campaigning are timed apart, as for {@code holdfast lock}: opening a session may take up to
 * {@code --connect-timeout} (a node still starting is asked again within it), and {@code --wait} counts from the
 * open session, so {@code --wait 0s} tries once.
 *
 * <p>The exit code is COMMAND's own, except: {@value ExitCodes#NOT_ACQUIRED} when not elected within
 * {@code --wait} (COMMAND did not run; the line names who leads); {@value ExitCodes#LOCK_LOST} when the leadership was lost
 * while COMMAND ran (its session expired, or an operator revoked it: COMMAND was stopped, SIGTERM
 * then SIGKILL after {@code --grace}); {@value ExitCodes#BACKEND_UNAVAILABLE} when the backend cannot
 * be reached within {@code --connect-timeout}; {@value ExitCodes#USAGE} for bad input or a backend without elections; 127/126 when
 * COMMAND cannot be found/started. SIGTERM or SIGINT stop COMMAND the same way and resign.
 */
@Command(
        name = "elect",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Campaign in the election NAME and run COMMAND while this process leads.",
            "The child gets HOLDFAST_ELECTION, HOLDFAST_EPOCH (= HOLDFAST_FENCING_TOKEN: fence your writes with it)"
                    + " and HOLDFAST_LEADER_VALUE.",
            "Exit code: the child's own; 75 not elected in time (the leader is named); 76 leadership lost while running (the child"
                    + " was stopped); 69 backend unavailable; 64 usage error; 127/126 command not found/not"
                    + " runnable."
        })
final class ElectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(
            arity = "1..*",
            paramLabel = "NAME -- COMMAND",
            description = "The election's name (e.g. services/indexer), then -- and the command to run.")
    List<String> positionals;

    @Option(
            names = "--value",
            paramLabel = "TEXT",
            defaultValue = "",
            description = "What this leader tells observers (holdfast locks, Election.leader()): an address, a host.")
    String value;

    @Option(
            names = "--wait",
            paramLabel = "DURATION",
            defaultValue = "24h",
            converter = DurationConverter.class,
            description = "How long to campaign before giving up, counted once connected (default:"
                    + " ${DEFAULT-VALUE}); 0s tries once. Connecting has its own --connect-timeout.")
    Duration wait;

    @Option(
            names = "--grace",
            paramLabel = "DURATION",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description =
                    "When the leadership is lost, or this CLI dies: SIGKILL the command this long after SIGTERM (default:"
                            + " ${DEFAULT-VALUE}).")
    Duration grace;

    @Mixin
    BackendOption backend;

    @Mixin
    ConnectOption connect;

    @Override
    public Integer call() throws InterruptedException {
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        int dash = original.indexOf("--");
        int commandWords = dash < 0 ? positionals.size() - 1 : original.size() - dash - 1;
        if (commandWords < 1 || positionals.size() - commandWords != 1) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    "give the election's name, then -- and the command to run, e.g. holdfast elect services/indexer"
                            + " --value $(hostname) -- ./indexer",
                    null);
        }
        String name = positionals.get(0);
        List<String> command = List.copyOf(positionals.subList(1, positionals.size()));
        AcquireOptions options;
        try {
            Names.check(name);
            options = AcquireOptions.waitUpTo(wait);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        LockClient client = Backends.open(backend.uri(), connect.clientOptions());
        AtomicReference<ChildProcess> child = new AtomicReference<>();
        HeldChild.SignalHook onSignal = HeldChild.onSignal("holdfast-elect-shutdown", client, child, grace);
        try {
            Leadership leading = campaign(client, name, options);
            return HeldChild.run(
                    new HeldChild.Holding(
                            "holdfast elect",
                            "the leadership of '" + name + "' (epoch " + leading.epoch() + ")",
                            false,
                            Map.of(
                                    "HOLDFAST_ELECTION", name,
                                    "HOLDFAST_EPOCH", Long.toString(leading.epoch()),
                                    "HOLDFAST_FENCING_TOKEN", Long.toString(leading.epoch()),
                                    "HOLDFAST_LEADER_VALUE", leading.value()),
                            leading::resign,
                            leading::onLost),
                    command,
                    child,
                    grace,
                    spec.commandLine().getErr());
        } catch (RuntimeException e) {
            if (onSignal.fired()) {
                return ExitCodes.NOT_ACQUIRED; // stopped while campaigning: the JVM exits with the signal's code
            }
            throw e;
        } finally {
            onSignal.remove();
            client.close();
        }
    }

    private Leadership campaign(LockClient client, String name, AcquireOptions options) throws InterruptedException {
        try {
            return client.election(name).campaign(value, options);
        } catch (LockTimeoutException e) {
            String leader = Holders.ledBy(client, name);
            throw new CliFailure(
                    ExitCodes.NOT_ACQUIRED,
                    (leader == null ? "" : leader + "; ") + "not elected in '" + name + "' within "
                            + Durations.format(wait) + "; the command did not run",
                    e);
        } catch (UnsupportedFeatureException | InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
    }
}
