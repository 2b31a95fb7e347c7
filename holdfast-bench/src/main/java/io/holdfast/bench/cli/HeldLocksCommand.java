package io.holdfast.bench.cli;

import io.holdfast.bench.population.HeldLocksBench;
import io.holdfast.bench.population.PopulationBench;
import io.holdfast.bench.population.PopulationBench.Step;
import io.holdfast.cli.CliCommand;
import io.holdfast.cli.CliFailure;
import io.holdfast.cli.DurationConverter;
import io.holdfast.cli.ExitCodes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast bench held-locks}: three real server processes on loopback, many held locks on them, and what
 * those cost the members ({@link HeldLocksBench}): heap per held lock, the snapshot's size and write time, a
 * follower's restart, a follower's catch-up from the leader's snapshot.
 *
 * <p>Guaranteed: exit 0 when every measurement ran and the follower caught up from a snapshot, 1 when a step failed
 * (the last line says why), 71 when the cluster could not start, 64 for a bad option; every server process it
 * started is stopped before it exits. Failure story: the leader does not purge its log past the stopped follower within
 * {@code --limit}; the line says so and it exits 1.
 */
@Command(
        name = "held-locks",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Start three real server processes on loopback, take many held locks over many sessions, and measure"
                    + " what they cost: heap per held lock (after a full GC) on the leader and the followers, the"
                    + " snapshot's size on disk and write time, a follower's restart (start to ready, to the"
                    + " leader's index), and a follower's catch-up from the leader's snapshot.",
            "",
            "  holdfast bench held-locks",
            "  holdfast bench held-locks --sessions 1000 --locks 100000 --server-java-opts '-Xmx1g -XX:+UseSerialGC'",
            "",
            "Run it in a private network namespace on a shared machine:"
                    + " unshare -n sh -c 'ip link set lo up; ./holdfast bench held-locks'.",
            "",
            "Exit code: 0 every step ran; 1 a step failed (the last line says why); 71 the cluster did not start;"
                    + " 64 usage error."
        })
public final class HeldLocksCommand implements Callable<Integer>, CliCommand {
    @Spec
    CommandSpec spec;

    @Option(names = "--sessions", defaultValue = "10000", description = "Sessions (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(
            names = "--locks",
            defaultValue = "1000000",
            description = "Held locks, lock i held by session i mod sessions (default: ${DEFAULT-VALUE}).")
    int locks;

    @Option(
            names = "--dir",
            paramLabel = "DIR",
            defaultValue = "holdfast-bench/target/held-locks",
            description = "The nodes' data and logs (default: ${DEFAULT-VALUE}); emptied of old node data first.")
    Path dir;

    @Option(
            names = "--base-port",
            defaultValue = "25653",
            description = "Node i listens on BASE+10i (client), +1 (Raft), +2 (HTTP) (default: ${DEFAULT-VALUE}).")
    int basePort;

    @Option(
            names = "--server-java-opts",
            defaultValue = "-Xmx2g -XX:+UseSerialGC",
            description = "The servers' JVM options, split on spaces (default: ${DEFAULT-VALUE}).")
    String serverJavaOpts;

    @Option(
            names = "--server-option",
            paramLabel = "OPTION",
            description = "One more 'holdfast server' option for every node (repeat).")
    List<String> serverOptions = new ArrayList<>();

    @Option(
            names = "--session-ttl",
            paramLabel = "DURATION",
            defaultValue = "60s",
            converter = DurationConverter.class,
            description = "Every session's TTL; heartbeats every quarter of it (default: ${DEFAULT-VALUE}).")
    Duration sessionTtl;

    @Option(
            names = "--sessions-per-connection",
            defaultValue = "1000",
            description = "Sessions sharing one connection to the members (default: ${DEFAULT-VALUE}).")
    int sessionsPerConnection;

    @Option(
            names = "--limit",
            paramLabel = "DURATION",
            defaultValue = "10m",
            converter = DurationConverter.class,
            description = "The most each wait may take: members settling, a snapshot, a catch-up"
                    + " (default: ${DEFAULT-VALUE}).")
    Duration limit;

    @Option(
            names = "--tls",
            paramLabel = "auto|on|off",
            defaultValue = "auto",
            converter = PopulationCommand.SecurityConverter.class,
            description = "Run the nodes with TLS and access rules that lift every quota (auto: when the sessions"
                    + " or locks pass a default quota; default: ${DEFAULT-VALUE}).")
    PopulationCommand.Security tls;

    @Option(
            names = "--calls",
            paramLabel = "home|leader",
            defaultValue = "home",
            description = "Where the clients' calls go: each connection to a home member, which forwards writes to"
                    + " the leader, or every call to the leader (default: ${DEFAULT-VALUE}).")
    String calls;

    @Override
    public List<String> parent() {
        return List.of("bench");
    }

    @Override
    public Integer call() throws InterruptedException {
        if (sessions < 1 || locks < 0 || sessionsPerConnection < 1) {
            throw new CliFailure(
                    ExitCodes.USAGE, "--sessions and --sessions-per-connection must be positive, --locks at least 0");
        }
        if (!calls.equals("home") && !calls.equals("leader")) {
            throw new CliFailure(ExitCodes.USAGE, "--calls is home or leader, not '" + calls + "'");
        }
        if (basePort < 1 || basePort + 30 > 65_535) {
            throw new CliFailure(ExitCodes.USAGE, "--base-port must leave room for three nodes below 65535");
        }
        List<String> jvm = Arrays.stream(serverJavaOpts.trim().split("\\s+"))
                .filter(s -> !s.isEmpty())
                .toList();
        boolean secured = tls == PopulationCommand.Security.ON
                || (tls == PopulationCommand.Security.AUTO
                        && PopulationBench.passesDefaultQuotas(
                                List.of(new Step("sessions", sessions), new Step("locks", locks))));
        HeldLocksBench.Settings settings = new HeldLocksBench.Settings(
                sessions,
                locks,
                dir,
                basePort,
                jvm,
                serverOptions,
                sessionTtl,
                sessionsPerConnection,
                limit,
                secured,
                calls.equals("leader"));
        PrintWriter out = spec.commandLine().getOut();
        HeldLocksBench.Result result;
        try {
            PopulationBench.clearNodeData(dir, 3);
            result = new HeldLocksBench(settings, out).run();
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.SERVER_START_FAILED, "the cluster did not start: " + e.getMessage(), e);
        }
        if (result.stopped().isPresent()) {
            out.println("stopped: " + result.stopped().get());
            out.flush();
            return ExitCodes.CHECK_FAILED;
        }
        return ExitCodes.OK;
    }
}
