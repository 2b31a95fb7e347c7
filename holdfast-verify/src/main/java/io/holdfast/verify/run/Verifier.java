package io.holdfast.verify.run;

import io.holdfast.ports.PortLease;
import io.holdfast.verify.check.AvailabilityChecker;
import io.holdfast.verify.check.CheckResult;
import io.holdfast.verify.check.Checkers;
import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.net.Network;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Runs verification scenarios end to end and checks what they recorded: the engine behind {@code
 * holdfast verify}. See {@link #run(Options)} for the steps of one run.
 *
 * <p><b>Guarantees.</b> The exit code is 0 only when every checker of every run passed; an
 * inconclusive check (a search that gave up, a fault that did not bite) is not a pass. Every run
 * leaves its directory behind: the merged record file ({@code history.jsonl}, which {@code
 * --check} reads again), and the logs and data directories of every process.
 *
 * <p><b>Not guaranteed.</b> A passing run is evidence, not proof: faults are random (seeded), and
 * only the interleavings that happened were checked.
 */
public final class Verifier {
    /** The names the workload uses; the final phase probes each of them. */
    static final List<String> LOCKS = List.of("lock-0", "lock-1", "lock-2");

    static final String RW = "rw-0";
    static final String SEMAPHORE = "sem-0";
    static final List<String> REGISTERS = List.of("reg-0", "reg-1");

    /** The elections of the {@code election} scenario (ElectionWorkload's names). */
    static final List<String> ELECTIONS = List.of("election-0", "election-1");

    /**
     * What to run.
     *
     * @param scenario a scenario name, or "all"
     * @param bug a planted bug to switch on in the nodes, the client workers ({@link
     *     PlantedBugs#isClientBug}) or the harness; then the scenario is the one exposing it. Or null
     * @param clients ordinary client processes (an intruder comes on top)
     * @param outDir where the run directories go
     */
    public record Options(String scenario, Duration duration, long seed, String bug, int clients, Path outDir) {}

    private final PrintStream out;
    private final AvailabilityChecker.Bounds bounds;

    public Verifier(PrintStream out, AvailabilityChecker.Bounds bounds) {
        this.out = out;
        this.bounds = bounds;
    }

    /** "name: description" per scenario. */
    public static List<String> scenarioLines() {
        List<String> lines = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            lines.add(String.format("%-28s %d nodes  %s", s.name(), s.nodes(), s.description()));
        }
        return lines;
    }

    /** The planted bugs, each with the scenario that exposes it. */
    public static List<String> bugLines() {
        List<String> lines = new ArrayList<>();
        for (String bug : PlantedBugs.all()) {
            lines.add(String.format(
                    "%-26s exposed by %s",
                    bug, PlantedBugs.exposing(bug).orElseThrow().name()));
        }
        return lines;
    }

    /**
     * Runs one scenario, every scenario ("all"), or the scenario exposing {@code options.bug()}.
     *
     * @return 0 if every run passed every checker, 1 otherwise
     * @throws IllegalArgumentException for an unknown scenario or bug
     */
    public int run(Options options) throws IOException, InterruptedException {
        List<Scenario> scenarios = new ArrayList<>();
        if (options.bug() != null) {
            scenarios.add(PlantedBugs.exposing(options.bug())
                    .orElseThrow(() -> new IllegalArgumentException("unknown bug '" + options.bug()
                            + "'; --list-bugs names them: " + String.join(", ", PlantedBugs.all()))));
        } else if ("all".equals(options.scenario())) {
            scenarios.addAll(Scenarios.all());
        } else {
            scenarios.add(Scenarios.byName(options.scenario())
                    .orElseThrow(() -> new IllegalArgumentException(
                            "unknown scenario '" + options.scenario() + "' (see --list-scenarios)")));
        }
        useClassArchives(options.outDir());
        int failed = 0;
        List<String> verdicts = new ArrayList<>();
        try {
            for (Scenario s : scenarios) {
                boolean ok = runOne(s, options);
                verdicts.add(String.format("  %-28s %s", s.name(), ok ? "PASS" : "FAIL"));
                if (!ok) {
                    failed++;
                }
            }
        } finally {
            Child.awaitBackgroundCloses(); // the nodes of the last runs, still shutting down
        }
        if (scenarios.size() > 1) {
            out.println();
            out.println("== all scenarios: " + (scenarios.size() - failed) + " passed, " + failed + " failed");
            verdicts.forEach(out::println);
        }
        return failed == 0 ? 0 : 1;
    }

    /** Child JVMs share class archives in {@code outDir/cds} ({@link ClassArchive}); off with -Dholdfast.verify.classArchives=false. */
    static void useClassArchives(Path outDir) {
        ClassArchive.useDirectory(
                Boolean.parseBoolean(System.getProperty("holdfast.verify.classArchives", "true"))
                        ? outDir.resolve("cds")
                        : null);
    }

    /** Checks a saved record file again. @return 0 if every checker passed */
    public int check(Path file) throws IOException {
        List<Record> records = History.readAll(List.of(file));
        return report(records, null, null).passed() ? 0 : 1;
    }

    /**
     * What one run showed.
     *
     * @param passed every checker passed (or had nothing to read) and the run did not break off
     * @param brokeOff why the run broke off before its end (a process would not start, say), or null
     * @param operations the completed operations of the history ({@link Summary#completed()})
     * @param faults the faults injected ({@link Summary#injected()})
     * @param violations the violations of every checker together
     * @param findings one line per checker that did not pass (its name, status and first violations),
     *     so that a soak can say why a round failed where its report is out of reach (a CI log)
     */
    record Outcome(
            boolean passed, String brokeOff, long operations, long faults, long violations, List<String> findings) {
        Outcome {
            findings = List.copyOf(findings);
        }

        /** An outcome without findings (a test's scripted round). */
        Outcome(boolean passed, String brokeOff, long operations, long faults, long violations) {
            this(passed, brokeOff, operations, faults, violations, List.of());
        }
    }

    private boolean runOne(Scenario s, Options o) throws IOException, InterruptedException {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path dir = o.outDir().resolve(s.name() + (o.bug() == null ? "" : "-" + o.bug()) + "-" + o.seed() + "-" + stamp);
        return runIn(s, o, dir).passed();
    }

    /** Runs {@code s} (not {@code o.scenario()}) in {@code dir}, prints its report and says what it showed. */
    Outcome runIn(Scenario s, Options o, Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        out.printf(
                "%n== %s (seed %d, %s%s): %s%n",
                s.name(),
                o.seed(),
                Durations.format(o.duration()),
                o.bug() == null ? "" : ", planted bug " + o.bug(),
                dir);
        Path harnessLog = dir.resolve("harness.jsonl");
        List<Path> files = new ArrayList<>(List.of(harnessLog));
        String failure = null;
        try (History.Writer harness = new History.Writer(harnessLog);
                PortLease lease = new PortLease()) {
            try {
                files.addAll(execute(s, o, dir, harness, lease));
            } catch (IOException | RuntimeException e) {
                failure = e.getMessage() != null ? e.getMessage() : e.toString(); // never null: null is a pass
                out.println("  the run broke off: " + failure);
                files.addAll(recordsIn(dir)); // what the processes recorded until then
            }
        }
        List<Record> records =
                History.readAll(files.stream().filter(Files::exists).distinct().toList());
        Path merged = dir.resolve("history.jsonl");
        History.write(merged, records);
        Outcome outcome = report(records, s, failure);
        Halts.in(dir.resolve("logs")).forEach(h -> out.println("  halted: " + h)); // its log says why
        out.println("  record: " + merged + "   (holdfast verify --check " + merged + ")");
        return outcome;
    }

    /** Steps 1-6 of a run; returns the record files the processes wrote. */
    private List<Path> execute(Scenario s, Options o, Path dir, History.Writer harness, PortLease lease)
            throws IOException, InterruptedException {
        Random random = new Random(o.seed());
        List<String> nodeIds = new ArrayList<>();
        for (int i = 1; i <= s.nodes(); i++) {
            nodeIds.add("n" + i);
        }
        List<String> clientIds = new ArrayList<>();
        for (int i = 1; i <= o.clients(); i++) {
            clientIds.add("c" + i);
        }

        Map<String, int[]> ports = new LinkedHashMap<>();
        for (String n : nodeIds) {
            ports.put(n, new int[] {lease.take(), lease.take(), lease.take()});
        }
        harness.append(new Meta(
                System.nanoTime(),
                s.name(),
                o.seed(),
                s.nodes(),
                o.clients(),
                o.bug(),
                Scenarios.TTL.toMillis(),
                Map.of("duration", Durations.format(o.duration())),
                s.expects()));

        List<Path> files = new ArrayList<>();
        List<Network.NodePorts> nodePorts = new ArrayList<>();
        for (int[] p : ports.values()) {
            nodePorts.add(new Network.NodePorts(p[0], p[1]));
        }
        List<String> clientDialers = new ArrayList<>(clientIds);
        clientDialers.add("x1");
        try (Network network = Network.start(nodePorts, clientDialers, dir.resolve("hosts"));
                Stores stores = Stores.start(dir);
                Nodes nodes = nodes(
                        nodeIds, s.members(), ports, network, dir, PlantedBugs.isNodeBug(o.bug()) ? o.bug() : null)) {
            files.add(stores.fencedLog());
            files.add(stores.unfencedLog());
            WallClocks clocks = Scenarios.jumpsClocks(s) ? WallClocks.in(dir.resolve("clocks")) : null;
            nodes.withClocks(clocks);
            nodes.startAll(StartLimits.FIRST_START);
            nodes.awaitLeader(StartLimits.FIRST_LEADER);
            List<Workers.Spec> specs = new ArrayList<>();
            // Client i is homed on member i mod members (ADR 0003): clients on every member,
            // followers too, in every scenario, placed by the run rather than by chance.
            Map<String, String> homes = new LinkedHashMap<>();
            for (int i = 0; i < clientIds.size(); i++) {
                homes.put(clientIds.get(i), nodeIds.get(i % s.members()));
            }
            for (int i = 0; i < clientIds.size(); i++) {
                String c = clientIds.get(i);
                specs.add(new Workers.Spec(
                        c,
                        false,
                        network.hostsFile(c),
                        dir.resolve(c + ".jsonl"),
                        dir.resolve("logs").resolve(c + ".log"),
                        random.nextLong(),
                        s.load().workerArgs(o.bug(), i)));
            }
            specs.add(new Workers.Spec(
                    "x1",
                    true,
                    network.hostsFile("x1"),
                    dir.resolve("x1.jsonl"),
                    dir.resolve("logs").resolve("x1.log"),
                    random.nextLong(),
                    List.of()));
            try (Workers workers = new Workers(
                    specs,
                    c -> homes.containsKey(c) ? nodes.uri(homes.get(c)) : nodes.uri(),
                    stores.fencedAddress(),
                    stores.unfencedAddress(),
                    Scenarios.TTL)) {
                for (Workers.Spec w : specs) {
                    files.add(w.history());
                }
                workers.withClocks(clocks);
                workers.startAll();
                workers.broadcast("start");
                Faults faults = new Faults(
                        nodes,
                        workers,
                        network,
                        harness,
                        System.nanoTime() + o.duration().toNanos(),
                        PlantedBugs.SLOW_FAILOVER.equals(o.bug()));
                faults.withClocks(clocks);
                faults.withHomes(homes);
                try {
                    s.nemesis().run(faults, new Random(random.nextLong()));
                } catch (IOException e) {
                    harness.append(new Fault(System.nanoTime(), FaultAction.NEMESIS_ERROR, "harness", e.getMessage()));
                    out.println("  nemesis: " + e.getMessage());
                }
                faults.healAll();
                nodes.awaitLeader(Duration.ofSeconds(60));
                out.printf("  faults: %d; healed; final phase%n", faults.count());
                new FinalPhase(workers, harness, out, s.load().probedNames()).run();
                workers.closeAll(Duration.ofSeconds(20));
            }
            FinalReplicas.record(nodes, harness);
        }
        // the nodes are stopped: their logs are complete
        Map<String, Path> logs = new LinkedHashMap<>();
        for (String n : nodeIds) {
            logs.put(n, dir.resolve("logs").resolve(n + ".log"));
        }
        files.add(AppliedTrace.write(logs, dir.resolve("applied.jsonl")));
        return files;
    }

    private static Nodes nodes(
            List<String> ids, int members, Map<String, int[]> ports, Network network, Path dir, String bug) {
        List<Nodes.Spec> specs = new ArrayList<>();
        for (String id : ids) {
            int[] p = ports.get(id);
            specs.add(new Nodes.Spec(
                    id,
                    p[0],
                    p[1],
                    p[2],
                    dir.resolve("data").resolve(id),
                    network.hostsFile(id),
                    dir.resolve("logs").resolve(id + ".log")));
        }
        return new Nodes(specs, members, bug == null ? List.of() : List.of(bug), Duration.ofSeconds(1));
    }

    /** The record files in a run's directory, but the merged history. */
    private static List<Path> recordsIn(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsonl"))
                    .filter(f -> !f.getFileName().toString().equals("history.jsonl"))
                    .sorted()
                    .toList();
        }
    }

    /** Prints the summary and every checker's result; a run that broke off fails whatever they say. */
    private Outcome report(List<Record> records, Scenario s, String brokeOff) {
        Summary summary = Summary.of(records);
        summary.print(out);
        List<CheckResult> results = Checkers.run(records, bounds);
        boolean ok = true;
        long violations = 0;
        List<String> findings = new ArrayList<>();
        for (CheckResult r : results) {
            violations += r.violations().size();
            String counts = r.counts().isEmpty() ? "" : "  " + new java.util.TreeMap<>(r.counts());
            String detail = r.detail() == null || r.detail().isEmpty() ? "" : "  (" + r.detail() + ")";
            out.printf("  %-16s %s%s%s%n", r.checker(), r.status(), counts, detail);
            for (String v :
                    r.violations().subList(0, Math.min(10, r.violations().size()))) {
                out.println("      violation: " + v);
            }
            if (r.violations().size() > 10) {
                out.println("      … and " + (r.violations().size() - 10) + " more");
            }
            boolean passed = r.status() == CheckResult.Status.PASS || r.status() == CheckResult.Status.SKIPPED;
            if (!passed) {
                String first = r.violations().isEmpty()
                        ? detail
                        : ": "
                                + String.join(
                                        " | ",
                                        r.violations()
                                                .subList(
                                                        0,
                                                        Math.min(
                                                                3,
                                                                r.violations().size())));
                findings.add(r.checker() + " " + r.status() + first);
            }
            ok &= passed;
        }
        if (brokeOff != null) {
            out.println("  verdict: FAIL (the run broke off: " + brokeOff + ")");
        } else {
            out.println("  verdict: " + (ok ? "PASS" : "FAIL"));
        }
        return new Outcome(
                ok && brokeOff == null, brokeOff, summary.completed(), summary.injected(), violations, findings);
    }
}
