// Ceiling 545 lines, one idea: the benchmark's run from start to stop (the cluster, the steps in order, each
// row's measures and why a run stops), over the parts that start nodes, grow the crowd and disrupt it.
package io.holdfast.bench.population;

import io.holdfast.bench.population.Generator.KillTally;
import io.holdfast.bench.population.Generator.Tally;
import io.holdfast.bench.population.Nodes.Node;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The population benchmark: a live cluster of real server processes on loopback ({@link Nodes}, or a ZooKeeper
 * ensemble for the same measures side by side: {@link Target}), a population
 * grown step by step on it (a {@link Generator}: one {@link Crowd} in this JVM, or a {@link Fleet} of worker
 * processes), and after each step one row: what each node holds (heap after a full GC, RSS), the leader's CPU per
 * keepalive, W1 of one more client ({@link Probe}), a backup's size and time (the table in its snapshot form), a
 * follower's restart and catch-up, and, a TTL later, the failover gap; then the sessions per worker and per home
 * member, the leader's CPU per session per TTL, heap per session, and around the leader's SIGKILL the sessions lost,
 * how long until every session was served again and which connections had to change home.
 *
 * <p>Guaranteed: it stops at the first step the machine cannot carry and prints why (a node died, sessions
 * expired, the nodes' CPU saturates the cores, a step failed); the rows before it stand. Every process it started
 * is killed when it ends. Not guaranteed: steady figures on a shared machine (the load average is in every row).
 */
public final class PopulationBench {
    /** One step: raise one kind of the population to a count. */
    public record Step(String kind, int count) {
        static final List<String> KINDS = List.of("sessions", "locks", "waiters", "watchers");

        /** Parses {@code KIND=N}. @throws IllegalArgumentException naming what is wrong */
        public static Step parse(String text) {
            int eq = text.indexOf('=');
            String kind = eq < 0 ? text : text.substring(0, eq).trim();
            if (eq < 0 || !KINDS.contains(kind)) {
                throw new IllegalArgumentException(
                        "a step is KIND=N with KIND one of " + String.join(", ", KINDS) + ": '" + text + "'");
            }
            try {
                int n = Integer.parseInt(text.substring(eq + 1).trim().replace("_", ""));
                if (n < 0) {
                    throw new NumberFormatException();
                }
                return new Step(kind, n);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a step's count is a whole number >= 0: '" + text + "'", e);
            }
        }
    }

    /** The run's settings. */
    public record Settings(
            List<Step> steps,
            Path dir,
            int nodes,
            int basePort,
            List<String> serverJvmOptions,
            List<String> serverOptions,
            Duration sessionTtl,
            int sessionsPerConnection,
            Duration window,
            Duration w1,
            Duration prime,
            boolean disruptions,
            boolean secured,
            int processes,
            List<String> workerJvmOptions,
            double openRate,
            Duration failoverWindow,
            Duration restartKilledAfter,
            Duration killAfterRestart,
            Target target,
            String zookeeperClasspath) {}

    /**
     * Whether the steps pass a quota the servers hold without access rules (docs/security.md): 10,000 open
     * sessions for all anonymous clients together (the crowd's and the extra client's), 10,000 grants or 1,000
     * queued waits per session, 1,000,000 state entries. Such a run needs {@link Secured} (rules take TLS).
     */
    public static boolean passesDefaultQuotas(List<Step> steps) {
        long sessions = 0;
        long held = 0;
        long waiters = 0;
        for (Step s : steps) {
            switch (s.kind()) {
                case "sessions" -> sessions = Math.max(sessions, s.count());
                case "locks" -> held = Math.max(held, s.count());
                case "waiters" -> waiters = Math.max(waiters, s.count());
                default -> {}
            }
        }
        long perSession = Math.max(1, sessions);
        return sessions + 1 > 10_000
                || (held + perSession - 1) / perSession > 10_000
                || (waiters + perSession - 1) / perSession > 1_000
                || sessions + held + waiters + 1 > 1_000_000;
    }

    private final Settings settings;
    private final PrintWriter out;
    private double idleCpuNanosPerSecond = Double.NaN;
    /** Each node's heap after a full GC in the idle row. */
    private long[] idleHeap;

    public PopulationBench(Settings settings, PrintWriter out) {
        this.settings = settings;
        this.out = out;
    }

    /**
     * Runs every step that fits; returns why it stopped early, or empty when all ran.
     *
     * @throws IOException if the cluster cannot be started
     */
    public Optional<String> run() throws IOException, InterruptedException {
        Files.createDirectories(settings.dir());
        List<String> security = new ArrayList<>();
        try (Cluster nodes = settings.target().cluster(settings, security)) {
            nodes.startAll(Duration.ofSeconds(120));
            out.printf(
                    "cluster: %s, %s, server JVM %s, data in %s%n",
                    nodes.describe(), nodes.backendUri(), settings.serverJvmOptions(), settings.dir());
            security.forEach(out::println);
            try (Generator crowd = generator(nodes);
                    Probe probe = new Probe(settings.target().probeLock(nodes, settings))) {
                if (settings.prime().compareTo(Duration.ZERO) > 0) {
                    out.println(probe.prime(settings.prime()));
                }
                header();
                Optional<String> stop = row("idle", null, nodes, crowd, probe);
                for (int i = 0; stop.isEmpty() && i < settings.steps().size(); i++) {
                    Step s = settings.steps().get(i);
                    long t0 = System.nanoTime();
                    try {
                        crowd.grow(s);
                    } catch (RuntimeException e) {
                        return Optional.of("step " + s.kind() + "=" + s.count() + " failed (" + carried(crowd) + "): "
                                + e.getMessage());
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    out.printf(
                            Locale.ROOT,
                            "  (%s=%d grown in %.1f s%s)%n",
                            s.kind(),
                            s.count(),
                            seconds,
                            s.kind().equals("sessions")
                                    ? String.format(Locale.ROOT, ", %,.0f/s", s.count() / seconds)
                                    : "");
                    out.flush();
                    try {
                        stop = row(s.kind() + "=" + s.count(), s, nodes, crowd, probe);
                    } catch (RuntimeException e) {
                        return Optional.of("measuring " + s.kind() + "=" + s.count() + " failed: " + e.getMessage());
                    }
                }
                return stop;
            }
        }
    }

    /** What the processes carry now, in words, for a step that failed; or why that is not known. */
    private static String carried(Generator crowd) {
        try {
            Tally t = Tally.sum(crowd.tallies());
            return String.format(Locale.ROOT, "%,d sessions open, %,d expired", t.sessions(), t.expired());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (RuntimeException e) {
            return "what the processes carry is not known: " + e.getMessage();
        }
    }

    /** Deletes the data directories and logs of nodes {@code n1..nN} under {@code dir}: every run starts afresh. */
    public static void clearNodeData(Path dir, int nodes) throws IOException {
        for (int i = 1; i <= nodes; i++) {
            Path data = dir.resolve("n" + i);
            if (Files.isDirectory(data)) {
                try (var files = Files.walk(data)) {
                    for (Path p :
                            files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            Files.deleteIfExists(dir.resolve("n" + i + ".log"));
        }
    }

    /** The crowd in this JVM (one process), or a fleet of worker processes, with a line saying which. */
    private Generator generator(Cluster nodes) throws IOException {
        String rate = settings.openRate() > 0
                ? String.format(Locale.ROOT, "sessions opened at %,.0f/s", settings.openRate())
                : "sessions opened as fast as 256 in flight go";
        if (settings.processes() <= 1) {
            out.println("generator: this JVM, " + rate);
            return settings.target().crowd(nodes, settings);
        }
        Fleet fleet = new Fleet(
                settings.processes(),
                settings.workerJvmOptions(),
                nodes.backendUri(),
                settings.sessionTtl(),
                settings.sessionsPerConnection(),
                settings.openRate(),
                settings.dir());
        out.printf(
                "generator: %d worker processes (JVM %s, pids %s, logs %s/worker-N.log), %s%n",
                settings.processes(), settings.workerJvmOptions(), fleet.pids(), settings.dir(), rate);
        return fleet;
    }

    private void header() {
        out.println();
        out.println("| step | sessions | held | waiters | watchers | heap MB per node | RSS MB per node "
                + "| leader CPU ms/s | µs per keepalive | keepalives/s | W1 pairs/s | W1 p50 µs | W1 p99 µs "
                + "| backup KB | backup ms | follower restart + catch-up ms | failover ms | sessions per worker "
                + "| sessions by home | leader CPU µs per session per TTL | heap B per session per node "
                + "| sessions lost | served again p50 / p99 / max ms | reconnected | load |");
        out.println("| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: "
                + "| ---: | ---: | ---: | ---: | --- | --- | ---: | --- | ---: | --- | --- | ---: |");
        out.flush();
    }

    /**
     * Measures one step and prints its row; returns why the next step should not run, if so.
     *
     * @param step the step just grown, or null for the idle row
     */
    private Optional<String> row(String name, Step step, Cluster nodes, Generator crowd, Probe probe)
            throws InterruptedException {
        String load = loadAverage();
        Optional<Node> leader = nodes.leader();
        if (leader.isEmpty()) {
            return Optional.of("no node leads after " + name + ": " + nodes.deadNodes());
        }
        // CPU over a window: the leader's, all nodes', the generator's; heartbeats acknowledged in it.
        long[] cpu0 = cpu(nodes);
        List<Tally> before = crowd.tallies();
        long generator0 = generatorCpu(before);
        long ka0 = Tally.sum(before).keepAlives();
        long t0 = System.nanoTime();
        Thread.sleep(settings.window().toMillis());
        long elapsed = System.nanoTime() - t0;
        long[] cpu1 = cpu(nodes);
        List<Tally> perWorker = crowd.tallies();
        Tally tally = Tally.sum(perWorker);
        long generator = generatorCpu(perWorker) - generator0;
        long kas = tally.keepAlives() - ka0;
        int li = nodes.all().indexOf(leader.get());
        double leaderCpuPerSecond = (cpu1[li] - cpu0[li]) * 1e9 / elapsed;
        long allNodes = 0;
        for (int i = 0; i < cpu0.length; i++) {
            allNodes += cpu1[i] - cpu0[i];
        }
        if (Double.isNaN(idleCpuNanosPerSecond)) {
            idleCpuNanosPerSecond = leaderCpuPerSecond;
        }
        double usPerKeepAlive =
                kas == 0 ? Double.NaN : (leaderCpuPerSecond - idleCpuNanosPerSecond) * elapsed / 1e9 / kas / 1e3;
        // µs of the leader's CPU per session per TTL: (CPU/s - idle CPU/s) x TTL / sessions.
        double usPerSessionPerTtl = tally.sessions() == 0
                ? Double.NaN
                : (leaderCpuPerSecond - idleCpuNanosPerSecond)
                        * settings.sessionTtl().toNanos()
                        / 1e9
                        / tally.sessions()
                        / 1e3;
        double cores = (allNodes + generator) / (double) elapsed;

        List<String> heap = new ArrayList<>();
        List<String> rss = new ArrayList<>();
        long[] heapBytes = new long[nodes.all().size()];
        for (int i = 0; i < heapBytes.length; i++) {
            Node n = nodes.all().get(i);
            heapBytes[i] = Nodes.liveHeapBytes(n.pid());
            heap.add(mb(heapBytes[i]));
            rss.add(mb(Nodes.rssBytes(n.pid())));
        }
        if (idleHeap == null) {
            idleHeap = heapBytes;
        }
        List<String> heapPerSession = new ArrayList<>();
        if (step != null && step.kind().equals("sessions") && tally.sessions() > 0) {
            for (int i = 0; i < heapBytes.length; i++) {
                heapPerSession.add(
                        heapBytes[i] < 0 || idleHeap[i] < 0
                                ? "?"
                                : String.format(Locale.ROOT, "%,d", (heapBytes[i] - idleHeap[i]) / tally.sessions()));
            }
        }
        Probe.W1 w1 = probe.w1(settings.w1());

        String backupKb = "-";
        String backupMs = "-";
        try {
            long b0 = System.nanoTime();
            Optional<Long> bytes = nodes.backupBytes(leader.get());
            if (bytes.isPresent()) {
                backupMs = Long.toString((System.nanoTime() - b0) / 1_000_000);
                backupKb = String.format(Locale.ROOT, "%,d", bytes.get() / 1024);
            }
        } catch (IOException e) {
            backupKb = "failed: " + e.getMessage();
        }
        long expiredSteady = Tally.sum(crowd.tallies()).expired();
        String restart = "-";
        String failover = "-";
        String lost = "-";
        String servedAgain = "-";
        String reconnected = "-";
        long expiredAfter = expiredSteady;
        long expiredByRestart = expiredSteady;
        if (settings.disruptions() && expiredSteady == 0) {
            restart = Long.toString(nodes.restartFollower());
            // The kill a while after the restart, not at once: a member whose JVM started 2 s before the kill served
            // the dead leader's connections 0.6 to 1.7 s later than a member that had run all along (five
            // 20,000-session runs, 2026-12-02): the kill's figures were the restart's. By default a TTL.
            Thread.sleep(settings.killAfterRestart().toMillis());
            expiredByRestart = Tally.sum(crowd.tallies()).expired();
            // The leader's kill only on a whole population: what it costs is then its own.
            Optional<Failover> f = expiredByRestart > 0 ? Optional.empty() : failover(nodes, probe, crowd);
            if (f.isPresent()) {
                failover = Long.toString(f.get().gapMillis());
                printKill(f.get(), nodes);
            }
            if (f.isPresent() && f.get().kill().sessions() > 0) {
                KillTally k = f.get().kill();
                lost = String.format(Locale.ROOT, "%,d", k.lost());
                servedAgain = k.gapsMillis().length == 0
                        ? "none"
                        : String.format(
                                Locale.ROOT,
                                "%,d / %,d / %,d",
                                k.gapPercentile(50),
                                k.gapPercentile(99),
                                k.gapPercentile(100));
                reconnected = String.format(
                        Locale.ROOT,
                        "%d of %d (%,d sessions) from %s; %d of %d (%,d) others",
                        k.movedFromKilled().connections(),
                        k.onKilled().connections(),
                        k.movedFromKilled().sessions(),
                        f.get().killed(),
                        k.movedElsewhere().connections(),
                        k.elsewhere().connections(),
                        k.movedElsewhere().sessions());
            }
            expiredAfter = Tally.sum(crowd.tallies()).expired();
            if (expiredByRestart > 0) {
                restart += " (" + expiredByRestart + " sessions expired)";
                failover = "not run";
            } else if (expiredAfter > 0) {
                failover += " (" + expiredAfter + " sessions expired)";
            }
        }
        out.printf(
                Locale.ROOT,
                "| %s | %,d | %,d | %,d | %,d | %s | %s | %.0f | %.1f | %,.0f | %,.0f | %,d | %,d | %s | %s | %s | %s "
                        + "| %s | %s | %.1f | %s | %s | %s | %s | %s |%n",
                name,
                tally.sessions(),
                tally.held(),
                tally.waiters(),
                tally.watchers(),
                String.join(" / ", heap),
                String.join(" / ", rss),
                leaderCpuPerSecond / 1e6,
                usPerKeepAlive,
                kas * 1e9 / elapsed,
                w1.pairsPerSecond(),
                w1.p50Micros(),
                w1.p99Micros(),
                backupKb,
                backupMs,
                restart,
                failover,
                String.join(
                        " / ",
                        perWorker.stream()
                                .map(t -> String.format(Locale.ROOT, "%,d", t.sessions()))
                                .toList()),
                byHome(tally.sessionsByHome(), nodes),
                usPerSessionPerTtl,
                heapPerSession.isEmpty() ? "-" : String.join(" / ", heapPerSession),
                lost,
                servedAgain,
                reconnected,
                load);
        out.flush();
        List<String> dead = nodes.deadNodes();
        if (!dead.isEmpty()) {
            return Optional.of("a node died: " + dead);
        }
        if (expiredSteady > 0) {
            return Optional.of(expiredSteady + " sessions expired in the steady window (their heartbeats went"
                    + " unanswered for a TTL)");
        }
        if (expiredByRestart > 0) {
            return Optional.of(expiredByRestart + " sessions expired across the follower's restart (no heartbeat"
                    + " acknowledged for a TTL); the leader was not killed");
        }
        if (expiredAfter > 0) {
            return Optional.of(expiredAfter + " sessions expired across the leader's failover (no heartbeat"
                    + " acknowledged for a TTL)");
        }
        int processors = Runtime.getRuntime().availableProcessors();
        if (cores >= 0.9 * processors) {
            return Optional.of(String.format(
                    Locale.ROOT,
                    "the nodes and the load generator used %.2f of %d cores in the steady window (%.0f keepalives/s)",
                    cores,
                    processors,
                    kas * 1e9 / elapsed));
        }
        return Optional.empty();
    }

    /** The leader's kill: the probe's gap, the member killed (its node id), what the crowd saw. */
    private record Failover(long gapMillis, String killed, KillTally kill) {}

    /** One line on the leader's kill, before the row. */
    private void printKill(Failover f, Cluster nodes) {
        KillTally k = f.kill();
        if (k.sessions() == 0) {
            out.printf("  (leader %s SIGKILLed with no session open)%n", f.killed());
            out.flush();
            return;
        }
        out.printf(
                Locale.ROOT,
                "  (leader %s SIGKILLed with %,d sessions open (by home: %s): %,d sessions lost; every session"
                        + " served again within"
                        + " p50 %,d ms, p99 %,d ms, max %,d ms over %,d sessions that sent heartbeats in %d s after the"
                        + " kill, %,d sent none, %,d never answered; homed on %s: %d connections (%,d sessions), %d"
                        + " moved (%,d sessions); homed elsewhere: %d connections (%,d sessions), %d moved (%,d"
                        + " sessions))%n",
                f.killed(),
                k.sessions(),
                byHome(k.sessionsByHome(), nodes),
                k.lost(),
                k.gapPercentile(50),
                k.gapPercentile(99),
                k.gapPercentile(100),
                k.gapsMillis().length,
                settings.failoverWindow().toSeconds(),
                k.silent(),
                k.unanswered(),
                f.killed(),
                k.onKilled().connections(),
                k.onKilled().sessions(),
                k.movedFromKilled().connections(),
                k.movedFromKilled().sessions(),
                k.elsewhere().connections(),
                k.elsewhere().sessions(),
                k.movedElsewhere().connections(),
                k.movedElsewhere().sessions());
        out.flush();
    }

    /** Sessions per home member, in the nodes' order ({@code n1 70 / n2 60 / n3 70}); homes no node has, last. */
    private static String byHome(java.util.Map<String, Integer> sessionsByHome, Cluster nodes) {
        List<String> cells = new ArrayList<>();
        java.util.Map<String, Integer> left = new java.util.TreeMap<>(sessionsByHome);
        for (Node n : nodes.all()) {
            cells.add(String.format(Locale.ROOT, "%s %,d", n.id, left.getOrDefault(n.clientAddress(), 0)));
            left.remove(n.clientAddress());
        }
        left.forEach((home, count) -> cells.add(String.format(Locale.ROOT, "%s %,d", home, count)));
        return String.join(" / ", cells);
    }

    /** CPU ns so far of this process and of every other process carrying the crowd. */
    private static long generatorCpu(List<Tally> tallies) {
        java.util.Set<Long> pids = new java.util.TreeSet<>();
        pids.add(ProcessHandle.current().pid());
        tallies.forEach(t -> pids.add(t.pid()));
        long sum = 0;
        for (long pid : pids) {
            sum += Math.max(0, Nodes.cpuNanos(pid));
        }
        return sum;
    }

    /**
     * SIGKILLs the leader under the probe's loop, the crowd told just before; restarts it and waits until it caught
     * up again, then a TTL, then until the crowd's window after the kill has passed. Empty if no node leads.
     */
    private Optional<Failover> failover(Cluster nodes, Probe probe, Generator crowd) throws InterruptedException {
        Optional<Node> leader = nodes.leader();
        if (leader.isEmpty()) {
            return Optional.empty();
        }
        long gap = probe.failoverGapMillis(
                () -> crowd.killing(leader.get().clientAddress(), settings.failoverWindow()),
                () -> nodes.kill(leader.get()),
                Duration.ofSeconds(60));
        // The killed member's host restarts it; on one machine its start takes the cores the survivors and the
        // crowd need in the kill's first seconds, which a cell's other hosts would not lose.
        Thread.sleep(settings.restartKilledAfter().toMillis());
        try {
            nodes.start(leader.get());
            nodes.awaitReady(leader.get(), Duration.ofSeconds(120));
        } catch (IOException e) {
            out.println("  (the old leader did not come back: " + e.getMessage() + ")");
        }
        Thread.sleep(settings.sessionTtl().toMillis()); // the sessions' heartbeats find the new leader
        return Optional.of(new Failover(gap, leader.get().id, crowd.afterKill()));
    }

    private static long[] cpu(Cluster nodes) {
        long[] cpu = new long[nodes.all().size()];
        for (int i = 0; i < cpu.length; i++) {
            cpu[i] = Nodes.cpuNanos(nodes.all().get(i).pid());
        }
        return cpu;
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "?" : String.format(Locale.ROOT, "%.0f", bytes / 1048576.0);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }
}
