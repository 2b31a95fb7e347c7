package io.holdfast.server;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus's {@code promtool} (Debian package {@code prometheus}), found on {@code PATH} or at
 * {@code -Dholdfast.promtool}. Without it the tests that need it are skipped, unless {@code
 * -Dholdfast.require.promtool=true} or {@code HOLDFAST_REQUIRE_PROMTOOL=true} is set (CI sets it):
 * then they fail.
 */
final class Promtool {
    private final String binary;

    private Promtool(String binary) {
        this.binary = binary;
    }

    /** The binary, or the test is skipped (failed when required) naming what to install. */
    static Promtool orSkip() {
        Optional<String> found = find();
        if (found.isEmpty()) {
            String why = "no promtool on PATH (install the Debian package prometheus, or set -Dholdfast.promtool)";
            if (required()) {
                throw new AssertionError(why
                        + ", and holdfast.require.promtool / HOLDFAST_REQUIRE_PROMTOOL asks for the promtool tests");
            }
            Assumptions.abort(why + ": the promtool tests are skipped");
        }
        return new Promtool(found.get());
    }

    static boolean required() {
        return Boolean.getBoolean("holdfast.require.promtool")
                || "true".equalsIgnoreCase(System.getenv("HOLDFAST_REQUIRE_PROMTOOL"));
    }

    private static Optional<String> find() {
        String configured = System.getProperty("holdfast.promtool");
        if (configured != null && !configured.isBlank()) {
            return Files.isExecutable(Path.of(configured)) ? Optional.of(configured) : Optional.empty();
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "promtool");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }

    /** What one run printed (both streams) and its exit code. */
    record Run(int exitCode, String output) {}

    /** Runs {@code promtool args…}, for at most 60 seconds. */
    Run run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binary);
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("promtool " + String.join(" ", args) + " did not end within 60 s");
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
