package io.holdfast.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.cli.ExitCodes;
import io.holdfast.cli.Main;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast bench} as the CLI runs it: found on the class path through this module's
 * {@code META-INF/services}, under the CLI's {@link Main}, with its exit codes and one-line errors.
 */
class BenchCommandTest {
    /**
     * The JIT of the server and worker processes these tests start: C1 only. They live a minute or two and
     * serve a small crowd; C2's compiles cost them more CPU than its code saves (the fleet run below: 97 CPU-s
     * with C2, 74 with C1, 2026-11-30), and CI's two cores are busy all along.
     */
    private static final String C1_ONLY = "-XX:TieredStopAtLevel=1";

    /** The server processes' JVM options. */
    private static final String SERVER_JVM = "-Xmx256m -XX:+UseSerialGC " + C1_ONLY;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int bench(String... args) {
        return bench(Map.of(), args);
    }

    private int bench(Map<String, String> env, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env)
                .execute(all);
    }

    @Test
    void theCliListsBenchAndItsHelpIsItsOwn() {
        assertThat(Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                        .execute("--help"))
                .isZero();
        assertThat(out.toString()).contains("  bench ");
        out.getBuffer().setLength(0);
        assertThat(bench("--help")).isZero();
        assertThat(out.toString()).startsWith("Usage: holdfast bench").contains("--clients", "--server-pid");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void theBackendComesFromTheEnvironmentWithoutTheFlag() {
        assertThat(bench(Map.of("HOLDFAST_BACKEND", "nosuch://x"), "--duration", "1s"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast bench: no backend in this build accepts 'nosuch://x'");
    }

    @Test
    void measuresHandoffsOnOneLockAndWritesATsvLine(@TempDir Path dir) throws Exception {
        Path tsv = dir.resolve("results.tsv");
        int exit = bench(
                "--backend",
                "mem:bench-test",
                "--clients",
                "4",
                "--locks",
                "1",
                "--duration",
                "1s",
                "--warmup",
                "0s",
                "--tsv",
                tsv.toString(),
                "--label",
                "c",
                "--plot",
                dir.resolve("plot.html").toString(),
                "--progress");

        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString())
                .startsWith("4 clients on one lock at mem:bench-test")
                .contains("handoffs/s")
                .contains("p99.9")
                .contains("errors       none");
        assertThat(Files.readAllLines(tsv)).hasSize(2).last().asString().startsWith("c\t4\t1\t");
        String plot = Files.readString(dir.resolve("plot.html"));
        assertThat(plot)
                .startsWith("<!doctype html>")
                .contains("<svg", "<path d=\"M", "acquire+release", "99.99%", "handoffs/s")
                .doesNotContain("<script");
        assertThat(out.toString())
                .contains("latency plot " + dir.resolve("plot.html").toAbsolutePath());
        assertThat(err.toString()).as("the progress bar").contains("[####").contains("measure");
    }

    @Test
    void printsEverySecondAsItEndsWarmupIncluded() {
        int exit = bench(
                "--backend",
                "mem:bench-seconds",
                "--duration",
                "2s",
                "--warmup",
                "1s",
                "--plot",
                "none",
                "--per-second");

        assertThat(exit).as(err.toString()).isZero();
        List<String> seconds =
                out.toString().lines().filter(l -> l.startsWith("second ")).toList();
        assertThat(seconds).hasSize(3);
        assertThat(seconds.get(0))
                .matches("second +1 warmup +[0-9,]+ pairs/s  p50 +[0-9.]+ ms  p99 +[0-9.]+ ms  errors 0");
        assertThat(seconds.get(1)).startsWith("second   2 measure");
        assertThat(seconds.get(2)).startsWith("second   3 measure");
        assertThat(out.toString()).as("the summary follows").contains("1 client on 1 lock at mem:bench-seconds");
    }

    /**
     * A cluster that is still starting: without {@code --await-backend} the run fails at once (69); with it, the
     * run waits for the node and measures from its first second.
     */
    @Test
    void awaitsABackendThatIsStillStarting(@TempDir Path dir) throws Exception {
        int client = FreePorts.next();
        String uri = "holdfast://127.0.0.1:" + client;
        assertThat(bench("--backend", uri, "--duration", "1s", "--warmup", "0s", "--plot", "none"))
                .isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        err.getBuffer().setLength(0);

        CompletableFuture<HoldfastServer> late = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(1000);
                return HoldfastServer.start(
                        ServerConfig.single(dir.resolve("node"), "127.0.0.1", client, FreePorts.next(), -1));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            int exit = bench(
                    "--backend",
                    uri,
                    "--await-backend",
                    "60s",
                    "--duration",
                    "1s",
                    "--warmup",
                    "0s",
                    "--plot",
                    "none",
                    "--per-second");
            assertThat(exit).as(err.toString()).isZero();
            assertThat(out.toString()).contains("second   1 measure");
        } finally {
            late.get(60, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void badCountsAreUsageErrors() {
        assertThat(bench("--backend", "mem:", "--clients", "2", "--locks", "3")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--locks must be between 1 and the number of clients (2)");
    }

    /**
     * CPU per pair: this process's own, and the named server processes' (read from the operating system). A busy
     * process shows CPU, an idle one none: the figure is that process's, not this one's.
     */
    @Test
    void reportsTheCpuPerPairOfTheClientAndOfTheNamedServers(@TempDir Path dir) throws Exception {
        Process busy = new ProcessBuilder("sh", "-c", "while :; do :; done").start();
        Process idle = new ProcessBuilder("sleep", "60").start();
        try {
            Path tsv = dir.resolve("cpu.tsv");
            for (Process server : List.of(busy, idle)) {
                int exit = bench(
                        "--backend",
                        "mem:bench-cpu",
                        "--clients",
                        "2",
                        "--duration",
                        "1s",
                        "--warmup",
                        "0s",
                        "--plot",
                        "none",
                        "--tsv",
                        tsv.toString(),
                        "--server-pid",
                        Long.toString(server.pid()));
                assertThat(exit).as(err.toString()).isZero();
            }
            assertThat(out.toString())
                    .contains("cpu per pair")
                    .contains("client ")
                    .contains(" ms, servers ");
            List<String> lines = Files.readAllLines(tsv);
            assertThat(lines.get(0)).endsWith("\tclient_cpu_ms_per_pair\tserver_cpu_ms_per_pair");
            String[] busyRow = lines.get(1).split("\t");
            String[] idleRow = lines.get(2).split("\t");
            assertThat(Double.parseDouble(busyRow[busyRow.length - 2]))
                    .as("client CPU")
                    .isPositive();
            assertThat(Double.parseDouble(busyRow[busyRow.length - 1]))
                    .as("a busy server's CPU")
                    .isPositive();
            assertThat(Double.parseDouble(idleRow[idleRow.length - 1]))
                    .as("an idle server's CPU")
                    .isZero();
        } finally {
            busy.destroyForcibly();
            idle.destroyForcibly();
        }
    }

    @Test
    void aServerPidThatIsNoProcessIsAUsageError() {
        assertThat(bench("--backend", "mem:", "--server-pid", "999999999")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--server-pid 999999999 is no running process on this machine");
    }

    @Test
    void populationIsABenchCommandAndABadStepIsOneUsageLine() {
        assertThat(bench("population", "--help")).isZero();
        assertThat(out.toString())
                .startsWith("Usage: holdfast bench population")
                .contains("--steps", "--server-java-opts");

        assertThat(bench("population", "--steps", "sessions=10,clients=5")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .isEqualTo("holdfast bench population: a step is KIND=N with KIND one of sessions, locks, waiters,"
                        + " watchers: 'clients=5'");

        err.getBuffer().setLength(0);
        assertThat(bench("population", "--tls", "maybe")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--tls is auto, on or off, not 'maybe'");

        err.getBuffer().setLength(0);
        assertThat(bench("population", "--target", "etcd")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--target is holdfast or zookeeper, not 'etcd'");

        err.getBuffer().setLength(0);
        assertThat(bench("population", "--target", "zookeeper", "--steps", "sessions=10,locks=5"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--target zookeeper takes sessions steps only");

        err.getBuffer().setLength(0);
        assertThat(bench("population", "--kill-after-restart", "-5s")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast bench population: Invalid value for option '--kill-after-restart': '-5s' is not"
                        + " a duration");

        err.getBuffer().setLength(0);
        assertThat(bench("population", "--prime", "soon")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast bench population: Invalid value for option '--prime': 'soon' is not a duration");
    }

    /** Which steps pass a quota the servers hold without access rules, and so need TLS and rules. */
    @Test
    void stepsPastADefaultQuotaNeedRules() {
        assertThat(io.holdfast.bench.population.PopulationBench.passesDefaultQuotas(
                        steps("sessions=1000,sessions=9999,locks=100000,waiters=9999,watchers=10000")))
                .as("9,999 sessions and the extra client's: 10,000; 11 grants and 1 wait per session")
                .isFalse();
        assertThat(io.holdfast.bench.population.PopulationBench.passesDefaultQuotas(steps("sessions=10000")))
                .as("with the extra client's session, 10,001")
                .isTrue();
        assertThat(io.holdfast.bench.population.PopulationBench.passesDefaultQuotas(steps("sessions=10,locks=100010")))
                .as("10,001 grants for some session")
                .isTrue();
        assertThat(io.holdfast.bench.population.PopulationBench.passesDefaultQuotas(steps("sessions=5,waiters=5001")))
                .as("1,001 queued waits for some session")
                .isTrue();
        assertThat(io.holdfast.bench.population.PopulationBench.passesDefaultQuotas(
                        steps("sessions=9000,locks=991000")))
                .as("1,000,001 state entries")
                .isTrue();
    }

    /**
     * A run with TLS and access rules on real server processes: the nodes take their certificates and the rules
     * (a node that refused them would not start), the benchmark's client and its HTTPS calls (readiness, status,
     * the backup, which needs admin) present the client certificate, and one step and its row complete.
     */
    @Test
    void aSecuredRunServesTheCrowdOverTlsWithTheRulesInForce(@TempDir Path dir) throws Exception {
        int base = FreePorts.next();
        while (!FreePorts.take(base + 1) || !FreePorts.take(base + 2)) {
            base = FreePorts.next();
        }
        int code = bench(
                "population",
                "--nodes",
                "1",
                "--base-port",
                Integer.toString(base),
                "--dir",
                dir.toString(),
                "--tls",
                "on",
                "--no-disruptions",
                "--steps",
                "sessions=20",
                "--window",
                "1s",
                "--w1",
                "1s",
                "--server-java-opts",
                SERVER_JVM);
        assertThat(code).as(out + "\n" + err).isZero();
        assertThat(out.toString())
                .contains("?ca=" + dir.resolve("certs"))
                .contains("security: TLS and access rules for the identity population");
        String row = out.toString()
                .lines()
                .filter(l -> l.startsWith("| sessions=20 |"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no row for sessions=20 in:\n" + out));
        assertThat(row.split("\\|")[2].trim()).as("sessions open in " + row).isEqualTo("20");
        assertThat(row).as("a backup (admin, over HTTPS) was taken").doesNotContain("failed");
        assertThat(Files.readString(dir.resolve("certs/rules.txt"))).contains("limit sessions-per-identity 2147483647");
    }

    /**
     * {@code held-locks} at a small size on three real server processes: 1,000 held locks over 10 sessions, the
     * nodes snapshotting every 200 entries and rolling their log every 8 KB, so that the stopped follower is soon
     * behind the leader's purged log and must be sent its snapshot. The counts it reports are the cluster's: every lock still held, no session expired,
     * the follower restarted and caught up from a snapshot, not from the log.
     */
    @Test
    void heldLocksTakesTheLocksAndCatchesAFollowerUpFromASnapshot(@TempDir Path dir) throws Exception {
        int base = freeBase(3);
        int code = bench(
                "held-locks",
                "--sessions",
                "10",
                "--locks",
                "1000",
                "--sessions-per-connection",
                "4",
                "--limit",
                "2m",
                "--session-ttl",
                "30s",
                "--base-port",
                Integer.toString(base),
                "--dir",
                dir.toString(),
                "--server-java-opts",
                SERVER_JVM + " -Dholdfast.raft.snapshotEvery=200");
        assertThat(code).as(out + "\n" + err).isZero();
        assertThat(out.toString())
                .as(out.toString())
                .contains("sessions: 10 opened in ")
                .contains("held locks: 1,000 taken in ")
                .containsPattern("heap per held lock, bytes: n1 \\((leader|follower)\\) -?[0-9,]+ / n2 ")
                .containsPattern("restart of n[123] \\(had applied [0-9,]+\\): ready [0-9,]+ ms")
                .contains("the leader's snapshot installed")
                .containsPattern("snapshots n[123] wrote meanwhile: \\[Wrote\\[index=\\d+, bytes=\\d+, millis=\\d+\\]")
                .contains("held: 1,000 over 10 sessions (10 open, 0 expired); follower restarted: yes; caught up"
                        + " from a snapshot: yes");
        assertThat(bench("held-locks", "--sessions", "0")).isEqualTo(ExitCodes.USAGE);
        assertThat(bench("held-locks", "--calls", "follower")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--calls is home or leader, not 'follower'");
    }

    /**
     * The population carried by two worker processes on three real server processes, the leader SIGKILLed with 200
     * sessions open (10 to a connection, so about a third of the 20 connections are homed on the leader): both
     * workers carry sessions and their counts sum to the step, every session is counted at a home member, the kill
     * loses no session, every session is served again within the window (p50 ≤ p99 ≤ max, each session's wait
     * counted), every connection homed on the killed leader moves and the counts of connections and sessions add up,
     * and no worker process outlives the run.
     */
    @Test
    void aFleetOfTwoWorkersCarriesTheCrowdAndLosesNoSessionWhenTheLeaderDies(@TempDir Path dir) throws Exception {
        int base = freeBase(3);
        int code = bench(
                "population",
                "--processes",
                "2",
                "--worker-java-opts",
                "-Xmx192m -XX:+UseSerialGC " + C1_ONLY,
                "--steps",
                "sessions=200",
                "--open-rate",
                "400",
                "--sessions-per-connection",
                "10",
                "--session-ttl",
                "10s",
                "--window",
                "1s",
                "--w1",
                "1s",
                "--failover-window",
                "15s",
                "--tls",
                "off",
                "--base-port",
                Integer.toString(base),
                "--dir",
                dir.toString(),
                "--server-java-opts",
                SERVER_JVM);
        String text = out.toString();
        java.util.regex.Matcher pids = java.util.regex.Pattern.compile(
                        "generator: 2 worker processes \\(JVM .*, pids \\[(\\d+), (\\d+)\\]")
                .matcher(text);
        assertThat(pids.find()).as(text).isTrue();
        for (int g = 1; g <= 2; g++) {
            assertThat(ProcessHandle.of(Long.parseLong(pids.group(g))).filter(ProcessHandle::isAlive))
                    .as("worker %s after the run", pids.group(g))
                    .isEmpty();
        }
        assertThat(ProcessHandle.current()
                        .descendants()
                        .filter(p ->
                                p.isAlive() && p.info().commandLine().orElse("").contains("CrowdWorker")))
                .as("worker processes still running")
                .isEmpty();
        assertThat(code).as(text + "\n" + err).isZero();

        List<String> lines = text.lines().toList();
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("| sessions=200 |")) {
                at = i;
            }
        }
        assertThat(at).as("a row for sessions=200 in:\n" + text).isPositive();
        String[] row = lines.get(at).split("\\|");
        String[] header = lines.stream()
                .filter(l -> l.startsWith("| step |"))
                .findFirst()
                .orElseThrow()
                .split("\\|");
        java.util.function.Function<String, String> cell =
                name -> row[java.util.Arrays.asList(header).indexOf(" " + name + " ")].trim();
        assertThat(cell.apply("sessions")).isEqualTo("200");
        List<Integer> perWorker = java.util.Arrays.stream(
                        cell.apply("sessions per worker").split(" / "))
                .map(Integer::parseInt)
                .toList();
        assertThat(perWorker).as("sessions per worker").hasSize(2).allMatch(n -> n > 0);
        assertThat(perWorker.stream().mapToInt(Integer::intValue).sum())
                .as("the workers' sessions sum to the step")
                .isEqualTo(200);
        assertThat(homes(cell.apply("sessions by home")).values().stream()
                        .mapToInt(Integer::intValue)
                        .sum())
                .as("sessions by home: " + cell.apply("sessions by home"))
                .isEqualTo(200);
        assertThat(cell.apply("sessions lost")).isEqualTo("0");

        String kill = lines.get(at - 1);
        java.util.regex.Matcher k = java.util.regex.Pattern.compile("leader (?<killed>n[123]) SIGKILLed with 200"
                        + " sessions open \\(by home: (?<homes>[^)]*)\\): 0 sessions lost; every session served again"
                        + " within p50 (?<p50>[0-9,]+) ms, p99 (?<p99>[0-9,]+) ms, max (?<max>[0-9,]+) ms over 200"
                        + " sessions that sent heartbeats in 15 s after the kill, 0 sent none, 0 never answered; homed on"
                        + " n[123]: (?<on>\\d+) connections \\((?<onSessions>\\d+) sessions\\), (?<moved>\\d+) moved"
                        + " \\((?<movedSessions>\\d+) sessions\\); homed elsewhere: (?<elsewhere>\\d+) connections"
                        + " \\((?<elsewhereSessions>\\d+) sessions\\), (?<movedElsewhere>\\d+) moved")
                .matcher(kill);
        assertThat(k.find()).as(kill).isTrue();
        long p50 = Long.parseLong(k.group("p50").replace(",", ""));
        long p99 = Long.parseLong(k.group("p99").replace(",", ""));
        long max = Long.parseLong(k.group("max").replace(",", ""));
        assertThat(p50).as(kill).isPositive().isLessThanOrEqualTo(p99);
        assertThat(p99).as(kill).isLessThanOrEqualTo(max);
        assertThat(max).as("a wait within the window: " + kill).isLessThan(15_000);
        Map<String, Integer> homesAtKill = homes(k.group("homes"));
        assertThat(homesAtKill.values().stream().mapToInt(Integer::intValue).sum())
                .as(kill)
                .isEqualTo(200);
        int onKilled = Integer.parseInt(k.group("on"));
        int movedFromKilled = Integer.parseInt(k.group("moved"));
        assertThat(Integer.parseInt(k.group("onSessions")))
                .as("the sessions homed on the killed leader, by connection and by home: " + kill)
                .isEqualTo(homesAtKill.get(k.group("killed")));
        assertThat(onKilled + Integer.parseInt(k.group("elsewhere")))
                .as("every connection: " + kill)
                .isEqualTo(20);
        assertThat(Integer.parseInt(k.group("onSessions")) + Integer.parseInt(k.group("elsewhereSessions")))
                .as("every session on a connection: " + kill)
                .isEqualTo(200);
        assertThat(movedFromKilled)
                .as("every connection homed on the killed leader reconnected: " + kill)
                .isEqualTo(onKilled);
        if (homesAtKill.get(k.group("killed")) > 0) {
            assertThat(movedFromKilled).as(kill).isPositive();
            assertThat(Integer.parseInt(k.group("movedSessions"))).as(kill).isPositive();
        }
        assertThat(cell.apply("reconnected"))
                .startsWith(movedFromKilled + " of " + onKilled + " (" + k.group("movedSessions") + " sessions)");
    }

    /** {@code n1 70 / n2 60 / n3 70}: sessions by home member, every node named. */
    private static Map<String, Integer> homes(String cell) {
        Map<String, Integer> homes = new java.util.TreeMap<>();
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("(n[123]) ([0-9,]+)").matcher(cell);
        while (m.find()) {
            homes.put(m.group(1), Integer.parseInt(m.group(2).replace(",", "")));
        }
        assertThat(homes).as(cell).containsOnlyKeys("n1", "n2", "n3");
        return homes;
    }

    /** A base port with {@code nodes} nodes' three ports each (base + 10i, +1, +2) free. */
    private static int freeBase(int nodes) {
        while (true) {
            int base = FreePorts.next();
            boolean free = true;
            for (int i = 0; i < nodes && free; i++) {
                for (int k = 0; k < 3 && free; k++) {
                    int port = base + 10 * i + k;
                    free = port == base || FreePorts.take(port);
                }
            }
            if (free) {
                return base;
            }
        }
    }

    private static List<io.holdfast.bench.population.PopulationBench.Step> steps(String text) {
        return java.util.Arrays.stream(text.split(","))
                .map(io.holdfast.bench.population.PopulationBench.Step::parse)
                .toList();
    }
}
