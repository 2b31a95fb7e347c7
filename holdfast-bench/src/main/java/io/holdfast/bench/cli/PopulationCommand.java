package io.holdfast.bench.cli;

import io.holdfast.bench.population.PopulationBench;
import io.holdfast.bench.population.PopulationBench.Settings;
import io.holdfast.bench.population.PopulationBench.Step;
import io.holdfast.bench.population.Target;
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
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast bench population}: starts a cluster of real server processes on loopback, grows a population of
 * sessions, held locks, waiters and watchers on it step by step, and prints one row per step ({@link
 * PopulationBench}).
 *
 * <p>Guaranteed: exit 0 when every step ran, 1 when it stopped at a step the machine could not carry (the last
 * line says why), 71 when the cluster could not start, 64 for a bad option; every server process it started is
 * killed before it exits. Failure story: a node runs out of heap in a step; the row is printed, the next line names
 * the node and its log's last error, and it exits 1.
 */
@Command(
        name = "population",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Start a cluster of real server processes on loopback and grow a population on it step by step:"
                    + " sessions keeping alive, held locks, waiters, watchers. After each step one row: heap (after"
                    + " a full GC) and RSS per node, the leader's CPU per keepalive, W1 of one more client, a"
                    + " backup's size and time, a follower's restart and catch-up, the failover gap; the sessions"
                    + " per worker process and per home member, the leader's CPU per session per TTL, heap per"
                    + " session, and around the leader's SIGKILL the sessions lost, the time until every session"
                    + " was served again and the connections that changed home.",
            "",
            "  holdfast bench population",
            "  holdfast bench population --steps sessions=1000,locks=10000 --server-java-opts '-Xmx2g'",
            "  holdfast bench population --processes 4 --open-rate 1000 --steps sessions=100000",
            "  holdfast bench population --target zookeeper --processes 4 --steps sessions=10000",
            "",
            "Run it in a private network namespace on a shared machine:"
                    + " unshare -n sh -c 'ip link set lo up; ./holdfast bench population'.",
            "",
            "Exit code: 0 every step ran; 1 it stopped at a step the machine could not carry (the last line says"
                    + " why); 71 the cluster did not start; 64 usage error."
        })
public final class PopulationCommand implements Callable<Integer>, CliCommand {
    static final String DEFAULT_STEPS =
            "sessions=1000,sessions=10000,sessions=100000,locks=10000,locks=1000000,waiters=10000,watchers=10000";

    @Spec
    CommandSpec spec;

    @Option(
            names = "--steps",
            defaultValue = DEFAULT_STEPS,
            description = "The steps, in order: KIND=N raises sessions, locks (held), waiters or watchers to N"
                    + " (default: ${DEFAULT-VALUE}). Steps past the servers' default quotas (10,000 open"
                    + " sessions for all anonymous clients together, the extra client's among them; 1,000,000"
                    + " state entries) run with TLS and access rules: see --tls.")
    String steps;

    @Option(
            names = "--dir",
            paramLabel = "DIR",
            defaultValue = "holdfast-bench/target/population",
            description = "The nodes' data and logs (default: ${DEFAULT-VALUE}); emptied of old node data first.")
    Path dir;

    @Option(names = "--nodes", defaultValue = "3", description = "Members (default: ${DEFAULT-VALUE}).")
    int nodeCount;

    @Option(
            names = "--base-port",
            defaultValue = "24653",
            description = "Node i listens on BASE+10i (client), +1 (Raft), +2 (HTTP) (default: ${DEFAULT-VALUE}).")
    int basePort;

    @Option(
            names = "--server-java-opts",
            defaultValue = "-Xmx1g -XX:+UseSerialGC",
            description = "The servers' JVM options, split on spaces (default: ${DEFAULT-VALUE}).")
    String serverJavaOpts;

    @Option(
            names = "--server-option",
            paramLabel = "OPTION",
            description = "One more 'holdfast server' option for every node (repeat), e.g. --server-option=--no-fsync.")
    List<String> serverOptions = new ArrayList<>();

    @Option(
            names = "--session-ttl",
            paramLabel = "DURATION",
            defaultValue = "10s",
            converter = DurationConverter.class,
            description = "Every session's TTL; heartbeats every quarter of it (default: ${DEFAULT-VALUE}).")
    Duration sessionTtl;

    @Option(
            names = "--sessions-per-connection",
            defaultValue = "1000",
            description = "Sessions sharing one connection to the members (default: ${DEFAULT-VALUE}).")
    int sessionsPerConnection;

    @Option(
            names = "--window",
            paramLabel = "DURATION",
            defaultValue = "10s",
            converter = DurationConverter.class,
            description = "The steady window CPU per keepalive is measured over (default: ${DEFAULT-VALUE}).")
    Duration window;

    @Option(
            names = "--w1",
            paramLabel = "DURATION",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description = "How long the extra client runs W1 in each step (default: ${DEFAULT-VALUE}).")
    Duration w1;

    @Option(
            names = "--processes",
            defaultValue = "1",
            description = "Processes that carry the population: 1 grows it in this JVM; N > 1 starts N worker JVMs"
                    + " that each carry 1/N of every step, with locks of their own (default: ${DEFAULT-VALUE}).")
    int processes;

    @Option(
            names = "--worker-java-opts",
            defaultValue = "-Xmx1g -XX:+UseSerialGC",
            description = "The worker processes' JVM options, split on spaces (default: ${DEFAULT-VALUE}).")
    String workerJavaOpts;

    @Option(
            names = "--open-rate",
            paramLabel = "N",
            defaultValue = "0",
            description = "Sessions opened per second across all processes; 0 for as fast as they open (256 in"
                    + " flight per process) (default: ${DEFAULT-VALUE}).")
    double openRate;

    @Option(
            names = "--failover-window",
            paramLabel = "DURATION",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description = "After the leader's SIGKILL, how long each session's heartbeats are watched for the time"
                    + " until every session is served again (default: ${DEFAULT-VALUE}).")
    Duration failoverWindow;

    @Option(
            names = "--prime",
            paramLabel = "DURATION",
            defaultValue = "0s",
            converter = DurationConverter.class,
            description = "Before the idle row, the extra client's W1 loop runs this long, not measured, so that the"
                    + " idle row's W1 is a warm cluster's: a fresh cluster's acquire path takes minutes of traffic to"
                    + " compile (default: ${DEFAULT-VALUE}, the idle row measures a cold cluster).")
    Duration prime;

    @Option(
            names = "--restart-killed-after",
            paramLabel = "DURATION",
            defaultValue = "0s",
            converter = DurationConverter.class,
            description = "How long after the leader's SIGKILL (once a client is served again) the killed member is"
                    + " restarted: on one machine its start takes cores that the survivors and the clients would"
                    + " have on a cell's own hosts (default: ${DEFAULT-VALUE}, at once).")
    Duration restartKilledAfter;

    @Option(
            names = "--kill-after-restart",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "How long after the follower's restart (once it has caught up) the leader is SIGKILLed:"
                    + " a member restarted just before a leader's death is still compiling its code when the dead"
                    + " leader's clients reach it (default: the session TTL).")
    Duration killAfterRestart;

    @Option(
            names = "--target",
            paramLabel = "holdfast|zookeeper",
            defaultValue = "holdfast",
            converter = TargetConverter.class,
            description = "What the population runs on: Holdfast's members, or a ZooKeeper ensemble of --nodes servers"
                    + " (sessions steps only: each session one ZooKeeper handle with an ephemeral node; W1 through"
                    + " Curator's InterProcessMutex; fsync on, tickTime 2000) for the same measures side by side"
                    + " (default: ${DEFAULT-VALUE}).")
    Target target;

    @Option(
            names = "--zookeeper-classpath",
            paramLabel = "PATH",
            defaultValue = Target.DEBIAN_ZOOKEEPER,
            description = "With --target zookeeper: the servers' class path (default: the Debian package zookeeper's"
                    + " jar and slf4j-simple, ${DEFAULT-VALUE}).")
    String zookeeperClasspath;

    static final class TargetConverter implements picocli.CommandLine.ITypeConverter<Target> {
        @Override
        public Target convert(String value) {
            return word(Target.class, value, "--target is holdfast or zookeeper");
        }
    }

    /** The constant of {@code type} named {@code value} in any case; @throws TypeConversionException saying {@code what} */
    static <E extends Enum<E>> E word(Class<E> type, String value, String what) {
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.TypeConversionException(what + ", not '" + value + "'");
        }
    }

    @Option(
            names = "--disruptions",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Kill and restart a follower, then the leader, in every step (default: ${DEFAULT-VALUE}).")
    boolean disruptions;

    /** Whether the cluster runs with TLS and access rules. */
    enum Security {
        AUTO,
        ON,
        OFF
    }

    @Option(
            names = "--tls",
            paramLabel = "auto|on|off",
            defaultValue = "auto",
            converter = SecurityConverter.class,
            description = "Run the nodes with TLS and access rules that lift every quota (auto: when the steps pass a"
                    + " default quota, such as 10,000 sessions; default: ${DEFAULT-VALUE}).")
    Security tls;

    static final class SecurityConverter implements picocli.CommandLine.ITypeConverter<Security> {
        @Override
        public Security convert(String value) {
            return word(Security.class, value, "--tls is auto, on or off");
        }
    }

    @Override
    public List<String> parent() {
        return List.of("bench");
    }

    @Override
    public Integer call() throws InterruptedException {
        List<Step> parsed = new ArrayList<>();
        try {
            for (String s : steps.split(",")) {
                parsed.add(Step.parse(s));
            }
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        if (nodeCount < 1 || sessionsPerConnection < 1 || basePort < 1 || basePort + 10 * nodeCount > 65_535) {
            throw new CliFailure(
                    ExitCodes.USAGE, "--nodes, --sessions-per-connection and --base-port must be positive and fit");
        }
        if (processes < 1
                || processes > 64
                || !(openRate >= 0)
                || failoverWindow.isNegative()
                || restartKilledAfter.isNegative()
                || prime.isNegative()) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    "--processes is 1 to 64, --open-rate 0 or more, --failover-window, --restart-killed-after and"
                            + " --prime not negative");
        }
        if (target == Target.ZOOKEEPER
                && parsed.stream().anyMatch(s -> !s.kind().equals("sessions"))) {
            throw new CliFailure(ExitCodes.USAGE, "--target zookeeper takes sessions steps only (--steps sessions=N)");
        }
        List<String> jvm = words(serverJavaOpts);
        Settings settings = new Settings(
                parsed,
                dir,
                nodeCount,
                basePort,
                jvm,
                serverOptions,
                sessionTtl,
                sessionsPerConnection,
                window,
                w1,
                prime,
                disruptions,
                tls == Security.ON || (tls == Security.AUTO && PopulationBench.passesDefaultQuotas(parsed)),
                processes,
                words(workerJavaOpts),
                openRate,
                failoverWindow,
                restartKilledAfter,
                killAfterRestart == null ? sessionTtl : killAfterRestart,
                target,
                zookeeperClasspath);
        PrintWriter out = spec.commandLine().getOut();
        Optional<String> stopped;
        try {
            PopulationBench.clearNodeData(dir, nodeCount);
            stopped = new PopulationBench(settings, out).run();
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.SERVER_START_FAILED, "the cluster did not start: " + e.getMessage(), e);
        }
        if (stopped.isPresent()) {
            out.println("stopped: " + stopped.get());
            out.flush();
            return ExitCodes.CHECK_FAILED;
        }
        return ExitCodes.OK;
    }

    private static List<String> words(String options) {
        return Arrays.stream(options.trim().split("\\s+"))
                .filter(s -> !s.isEmpty())
                .toList();
    }
}
