package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Lease;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Separate processes, as users run them: child JVMs on the test's class path reach the store through
 * {@link ProviderFixture#uri()}, exclude each other, and a killed holder's lock comes back.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
abstract class MultiProcessContract extends ContractSupport {
    private final List<Process> children = new ArrayList<>();

    MultiProcessContract(LockProviderContract suite) {
        super(suite);
    }

    @AfterEach
    final void killChildren() {
        for (Process p : children) {
            p.destroyForcibly();
        }
    }

    private String uri() {
        Optional<String> uri = fixture().uri();
        Assumptions.assumeTrue(uri.isPresent(), "the fixture has no URI for other processes");
        return uri.get();
    }

    private Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ChildWorker.class.getName());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        children.add(p);
        return p;
    }

    /** Collects a child's output on a thread of its own, so that it never blocks on a full pipe. */
    private static CompletableFuture<List<String>> output(Process p) {
        return CompletableFuture.supplyAsync(() -> {
            List<String> lines = new ArrayList<>();
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                }
            } catch (IOException e) {
                synchronized (lines) {
                    lines.add("(output ended: " + e + ")");
                }
            }
            return lines;
        });
    }

    @Test
    void processesExcludeEachOtherAndTokensGrowInLockOrder() throws Exception {
        String uri = uri();
        Path dir = Files.createTempDirectory("holdfast-contract-mp");
        Files.writeString(dir.resolve("counter"), "0");
        int processes = 3;
        int iterations = 15;
        List<Process> started = new ArrayList<>();
        List<CompletableFuture<List<String>>> outputs = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            Process p = start("count", uri, name("shared"), dir.toString(), Integer.toString(iterations));
            started.add(p);
            outputs.add(output(p));
        }
        for (int i = 0; i < processes; i++) {
            Process p = started.get(i);
            assertThat(p.waitFor(150, TimeUnit.SECONDS))
                    .as(
                            "child %d finished in time; its output: %s",
                            i, outputs.get(i).getNow(List.of()))
                    .isTrue();
            assertThat(p.exitValue())
                    .as(
                            "exit code of child %d; its output: %s",
                            i, outputs.get(i).get(5, TimeUnit.SECONDS))
                    .isZero();
        }
        assertThat(Files.readString(dir.resolve("counter")).trim())
                .as("the counter every critical section incremented once")
                .isEqualTo(Integer.toString(processes * iterations));
        List<String> log = Files.readAllLines(dir.resolve("log"));
        assertThat(log).hasSize(2 * processes * iterations);
        long last = 0;
        for (int i = 0; i < log.size(); i += 2) {
            String enter = log.get(i);
            String exit = log.get(i + 1);
            assertThat(enter).as("line %d of the log", i).startsWith("enter ");
            long token = Long.parseLong(enter.substring("enter ".length()));
            assertThat(exit)
                    .as(
                            "line %d: the critical section that entered with token %d must exit before the next enters",
                            i + 1, token)
                    .isEqualTo("exit " + token);
            assertThat(token).as("token of critical section %d", i / 2).isGreaterThan(last);
            last = token;
        }
    }

    @Test
    void aKilledHoldersLockComesBackAfterItsSessionOrLease() throws Exception {
        String uri = uri();
        String n = name("killed");
        long ttl = fixture().shortSessionTtl().toMillis();
        Process holder = start("hold", uri, n, Long.toString(ttl));
        BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> held = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("HELD ")) {
                        return line;
                    }
                }
                return "(child ended without holding)";
            } catch (IOException e) {
                return "(child output failed: " + e + ")";
            }
        });
        String line = held.get(60, TimeUnit.SECONDS);
        assertThat(line).as("what the holder process printed").startsWith("HELD ");
        long childToken = Long.parseLong(line.substring("HELD ".length()).trim());
        assertThat(observer().lock(n).tryAcquire())
                .as("the lock while the holder process is alive")
                .isEmpty();

        holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

        Duration bound = expiryBound().plus(fixture().shortSessionTtl());
        long start = System.nanoTime();
        Lease next = open().lock(n).acquire(bound);
        assertThat(next.fencingToken())
                .as("the token granted after the holder died, against the holder's")
                .isGreaterThan(childToken);
        assertThat(millisSince(start))
                .as("ms until the killed holder's lock came back")
                .isLessThan(bound.toMillis());
    }
}
