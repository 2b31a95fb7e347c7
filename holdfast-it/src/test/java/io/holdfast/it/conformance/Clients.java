package io.holdfast.it.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The clients in other languages (under {@code clients/}) and how to start their drivers: each is
 * found and built once (the Node client with {@code npm ci} and {@code npm run build} when its
 * build is missing, the Go driver with {@code go build}). A client whose toolchain is missing is
 * skipped with that reason, unless {@code HOLDFAST_REQUIRE_CLIENTS=true} (as in CI): then it fails.
 */
public final class Clients {
    public static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    public static final boolean REQUIRED = "true".equals(System.getenv("HOLDFAST_REQUIRE_CLIENTS"));

    /** How to start a driver, or why it cannot be. */
    public record Start(List<String> command, String missing) {}

    private static final Map<String, Start> STARTS = new ConcurrentHashMap<>();

    private Clients() {}

    /** The driver's command of {@code name} (python, node, go), built if need be. */
    public static Start start(String name) {
        return STARTS.computeIfAbsent(name, Clients::prepare);
    }

    private static Start prepare(String name) {
        try {
            return switch (name) {
                case "python" -> {
                    String missing = run(ROOT, 30, "python3", "--version");
                    yield new Start(
                            List.of(
                                    "python3",
                                    ROOT.resolve("clients/python/conformance_driver.py")
                                            .toString()),
                            missing);
                }
                case "node" -> {
                    Path dir = ROOT.resolve("clients/node");
                    Path driver = dir.resolve("dist/conformance-driver.js");
                    String missing = run(dir, 30, "node", "--version");
                    if (missing == null && !Files.exists(driver)) {
                        missing = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund");
                        if (missing == null) {
                            missing = run(dir, 300, "npm", "run", "build");
                        }
                    }
                    yield new Start(List.of("node", driver.toString()), missing);
                }
                case "go" -> {
                    Path dir = ROOT.resolve("clients/go");
                    Path out = Path.of("target", "conformance", "go-driver").toAbsolutePath();
                    Files.createDirectories(out.getParent());
                    String missing = run(dir, 300, "go", "build", "-o", out.toString(), "./cmd/conformance-driver");
                    yield new Start(List.of(out.toString()), missing);
                }
                default -> throw new IllegalArgumentException("no client " + name);
            };
        } catch (IOException e) {
            return new Start(List.of(), e.toString());
        }
    }

    /** Runs a command; null if it exited 0, else why not (its output's tail). */
    private static String run(Path dir, int seconds, String... command) throws IOException {
        Path log = Files.createTempFile("holdfast-client-build", ".log");
        Process p;
        try {
            p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            return String.join(" ", command) + ": " + e.getMessage();
        }
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return String.join(" ", command) + " took over " + seconds + " s";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        if (p.exitValue() == 0) {
            return null;
        }
        List<String> lines = Files.readAllLines(log);
        return String.join(" ", command) + " exited " + p.exitValue() + ": "
                + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    }
}
