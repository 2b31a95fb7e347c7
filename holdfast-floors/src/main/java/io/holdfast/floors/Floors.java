package io.holdfast.floors;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The consensus engines side by side: {@link Engine}s measured one per child JVM, in interleaved rounds, each run
 * cold (the first seconds of writes on a fresh JVM) and then primed (after {@code --prime} of the same load).
 *
 * <pre>
 * holdfast-floors/floors.sh [--engines ratis-grpc,sofajraft,...] [--nodes 1,3] [--rounds 2] [--threads 1]
 *     [--cold 10s] [--prime 60s] [--duration 10s] [--payload 64] [--no-fsync] [--dir DIR]
 * holdfast-floors/floors.sh --one ENGINE --nodes N ...     # one run in this JVM
 * </pre>
 *
 * <p>Each round runs every (engine, nodes) pair once, in an order rotated by one each round, so that drift in the
 * machine's speed over the run falls on every engine alike. The summary gives the median over rounds per pair and
 * phase; the output starts with the date, commit, JVM and load average, for docs/benchmarks.md.
 */
public final class Floors {
    record Options(
            List<String> engines,
            List<Integer> nodes,
            int rounds,
            int threads,
            Duration cold,
            Duration prime,
            Duration duration,
            int payload,
            boolean fsync,
            Path dir,
            String one,
            Map<String, String> settings) {}

    private static final Pattern FLOOR = Pattern.compile("^FLOOR (.*)$");

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("floors: " + e.getMessage());
            System.exit(64);
            return;
        }
        if (o.one() != null) {
            one(o);
            // Engines leave non-daemon threads behind (bolt, JGroups); the run is over.
            System.exit(0);
        }
        drive(o);
    }

    static Options parse(String[] args) {
        List<String> engines = Engines.names();
        List<Integer> nodes = List.of(1, 3);
        int rounds = 2;
        int threads = 1;
        Duration cold = Duration.ofSeconds(10);
        Duration prime = Duration.ofSeconds(60);
        Duration duration = Duration.ofSeconds(10);
        int payload = 64;
        boolean fsync = true;
        Path dir = null;
        String one = null;
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--no-fsync")) {
                fsync = false;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--engines" -> {
                    engines = Arrays.asList(v.split(","));
                    engines.forEach(Engines::kind);
                }
                case "--one" -> one = Engines.kind(v).name();
                case "--nodes" ->
                    nodes = Arrays.stream(v.split(",")).map(Integer::valueOf).toList();
                case "--rounds" -> rounds = positive(a, v);
                case "--threads" -> threads = positive(a, v);
                case "--payload" -> payload = positive(a, v);
                case "--cold" -> cold = duration(v);
                case "--prime" -> prime = duration(v);
                case "--duration" -> duration = duration(v);
                case "--dir" -> dir = Path.of(v);
                case "--set" -> {
                    String[] kv = v.split("=", 2);
                    if (kv.length != 2) {
                        throw new IllegalArgumentException("--set takes KEY=VALUE, not " + v);
                    }
                    settings.put(kv[0], kv[1]);
                }
                default -> throw new IllegalArgumentException("unknown option " + a + "; see Floors' javadoc");
            }
        }
        for (int n : nodes) {
            if (n != 1 && n != 3) {
                throw new IllegalArgumentException("--nodes takes 1 and/or 3, not " + n);
            }
        }
        return new Options(engines, nodes, rounds, threads, cold, prime, duration, payload, fsync, dir, one, settings);
    }

    private static int positive(String option, String v) {
        int n = Integer.parseInt(v);
        if (n < 1) {
            throw new IllegalArgumentException(option + " must be at least 1");
        }
        return n;
    }

    static Duration duration(String v) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m)").matcher(v);
        if (!m.matches()) {
            throw new IllegalArgumentException("a duration is a number and ms, s or m, not " + v);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
    }

    /** One engine in this JVM: cold, primed, measured; FLOOR lines on standard output. */
    static void one(Options o) throws Exception {
        int nodes = o.nodes().get(0);
        Path dir = o.dir() != null ? Files.createDirectories(o.dir()) : Files.createTempDirectory("floor");
        byte[] body = new byte[o.payload()];
        new java.util.Random(1).nextBytes(body);
        try (Engine engine = Engines.kind(o.one()).create()) {
            long t0 = System.nanoTime();
            engine.start(nodes, dir, o.fsync(), o.settings());
            System.out.printf(
                    Locale.ROOT,
                    "started %s with %d member(s) in %.1f s, durable %s%n",
                    engine.name(),
                    nodes,
                    (System.nanoTime() - t0) / 1e9,
                    engine.durable());
            if (o.fsync() && !engine.durable()) {
                throw new IllegalStateException(engine.name() + " does not fsync before acknowledging as started");
            }
            report(engine.name(), nodes, "cold", Floor.measureAndCheck(engine, o.threads(), body, o.cold()));
            if (!o.prime().isZero()) {
                Floor.measure(engine, o.threads(), body, o.prime());
            }
            report(engine.name(), nodes, "primed", Floor.measureAndCheck(engine, o.threads(), body, o.duration()));
        }
    }

    private static void report(String engine, int nodes, String phase, Floor.Result r) {
        System.out.println(Floor.line(engine, nodes, phase, r));
        for (Map.Entry<String, Double> g : r.cpuGroups()) {
            System.out.printf(Locale.ROOT, "    %-28s %8.1f µs CPU per write%n", g.getKey(), g.getValue());
        }
        System.out.flush();
    }

    /** Every (engine, nodes) pair, one child JVM each, in rotated order per round; then the medians. */
    static void drive(Options o) throws Exception {
        Path dir = o.dir() != null ? Files.createDirectories(o.dir()) : Files.createTempDirectory("floors");
        System.out.printf(
                Locale.ROOT,
                "floors: %s, commit %s, %s, load average %s, %d round(s), %d thread(s), %d-byte entries, fsync %s,"
                        + " cold %s, primed after %s, measured %s%n",
                Instant.now().truncatedTo(ChronoUnit.SECONDS),
                commit(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                loadAverage(),
                o.rounds(),
                o.threads(),
                o.payload(),
                o.fsync() ? "on" : "off",
                o.cold(),
                o.prime(),
                o.duration());
        List<String[]> pairs = new ArrayList<>();
        for (int n : o.nodes()) {
            for (String e : o.engines()) {
                pairs.add(new String[] {e, Integer.toString(n)});
            }
        }
        Map<String, List<Map<String, String>>> results = new TreeMap<>();
        for (int round = 0; round < o.rounds(); round++) {
            for (int k = 0; k < pairs.size(); k++) {
                String[] pair = pairs.get((k + round) % pairs.size());
                Path runDir = dir.resolve("r" + round + "-" + pair[0] + "-" + pair[1]);
                for (Map<String, String> line : child(o, pair[0], Integer.parseInt(pair[1]), runDir, round)) {
                    results.computeIfAbsent(
                                    line.get("engine") + "|" + line.get("nodes") + "|" + line.get("phase"),
                                    x -> new ArrayList<>())
                            .add(line);
                }
            }
        }
        System.out.printf(
                Locale.ROOT, "%nmedians over %d round(s), load average now %s%n%n", o.rounds(), loadAverage());
        System.out.println("| engine | members | phase | writes/s | p50 µs | p99 µs | CPU µs/write | rounds |");
        System.out.println("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        for (int n : o.nodes()) {
            for (String phase : List.of("cold", "primed")) {
                for (String e : o.engines()) {
                    List<Map<String, String>> rows = results.getOrDefault(e + "|" + n + "|" + phase, List.of());
                    if (rows.isEmpty()) {
                        System.out.printf("| %s | %d | %s | failed | | | | 0 |%n", e, n, phase);
                        continue;
                    }
                    System.out.printf(
                            Locale.ROOT,
                            "| %s | %d | %s | %,.0f | %.0f | %.0f | %.0f | %d |%n",
                            e,
                            n,
                            phase,
                            median(rows, "writes_per_s"),
                            median(rows, "p50_us"),
                            median(rows, "p99_us"),
                            median(rows, "cpu_us_per_write"),
                            rows.size());
                }
            }
        }
    }

    private static List<Map<String, String>> child(Options o, String engine, int nodes, Path dir, int round)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("-Xms512m");
        command.add("-Xmx512m");
        command.addAll(Engines.kind(engine).jvmOptions());
        command.addAll(List.of("-cp", Engines.kind(engine).classPath(root()), Floors.class.getName()));
        command.addAll(List.of("--one", engine, "--nodes", Integer.toString(nodes)));
        command.addAll(List.of("--threads", Integer.toString(o.threads()), "--payload", Integer.toString(o.payload())));
        command.addAll(List.of(
                "--cold", o.cold().toMillis() + "ms", "--prime", o.prime().toMillis() + "ms"));
        command.addAll(List.of("--duration", o.duration().toMillis() + "ms", "--dir", dir.toString()));
        if (!o.fsync()) {
            command.add("--no-fsync");
        }
        o.settings().forEach((k, v) -> command.addAll(List.of("--set", k + "=" + v)));
        Path log = dir.resolve("child.log");
        System.out.printf(
                Locale.ROOT, "%n== round %d: %s, %d member(s), load %s%n", round + 1, engine, nodes, loadAverage());
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        List<Map<String, String>> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                System.out.println(line);
                Matcher m = FLOOR.matcher(line);
                if (m.matches()) {
                    Map<String, String> kv = new LinkedHashMap<>();
                    for (String field : m.group(1).split(" ")) {
                        String[] parts = field.split("=", 2);
                        kv.put(parts[0], parts.length > 1 ? parts[1] : "");
                    }
                    lines.add(kv);
                }
            }
        }
        int exit = p.waitFor();
        if (exit != 0) {
            List<String> err = Files.readAllLines(log);
            String last = err.stream()
                    .filter(s -> s.contains("Exception") || s.contains("Error"))
                    .reduce((a, b) -> b)
                    .orElse(err.isEmpty() ? "no output" : err.get(err.size() - 1));
            System.out.printf("   failed, exit %d: %s (log: %s)%n", exit, last, log);
        }
        return lines;
    }

    private static double median(List<Map<String, String>> rows, String key) {
        double[] v = rows.stream()
                .mapToDouble(r -> Double.parseDouble(r.get(key)))
                .sorted()
                .toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** The repository's root: {@code floors.root}, which floors.sh sets, or the working directory. */
    static Path root() {
        return Path.of(System.getProperty("floors.root", "."));
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String commit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private Floors() {}
}
