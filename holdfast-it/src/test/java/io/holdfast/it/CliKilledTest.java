package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command ends with the lock, whatever kills the CLI (issue 51, item 2): a real {@code holdfast
 * lock} (or {@code holdfast elect}) process holds on a real server process and runs a command that
 * starts a process of its own; the CLI is killed with SIGKILL, which no shutdown hook sees. The
 * command and what it started are gone within a second (its guard, {@code ChildGuard}, read the end
 * of its lifeline), before the lock's lease timeout lets the next {@code holdfast lock} in, and a
 * command that ignores SIGTERM is killed after {@code --grace}.
 */
@EnabledOnOs(OS.LINUX)
class CliKilledTest {
    /** A second for the guard, plus slack for a loaded CI machine. */
    private static final Duration GONE_WITHIN = Duration.ofMillis(1500);

    @TempDir
    static Path serverDir;

    private static ServerProcesses server;

    @TempDir
    Path dir;

    private final List<Process> clis = new ArrayList<>();
    private final List<Path> pidFiles = new ArrayList<>();

    @BeforeAll
    static void startServer() throws IOException {
        server = new ServerProcesses(serverDir, 1);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) {
            server.close();
            server.keepLogs("CliKilledTest");
        }
    }

    @AfterEach
    void killWhatIsLeft() throws IOException {
        clis.forEach(Process::destroyForcibly);
        for (Path file : pidFiles) {
            if (Files.exists(file)) {
                ProcessHandle.of(pid(file)).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** Starts the CLI with these arguments, its stdout and stderr in {@code dir/NAME.out}. */
    private Process cli(String name, String... args) throws IOException {
        Process cli = new ProcessBuilder(ServerProcesses.java(List.of(), args))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .start();
        clis.add(cli);
        return cli;
    }

    /** A command that writes its pid and its child's, then ticks: {@code $0} is the test's directory. */
    private static final String HOLDER = "echo $$ > \"$0/child.pid\"; sleep 600 & echo $! > \"$0/grandchild.pid\";"
            + " while :; do echo tick >> \"$0/ticks\"; sleep 0.1; done";

    /** Starts {@code cli} holding something and running {@link #HOLDER}; returns once both pids are written. */
    private Process holding(String... args) throws IOException {
        pidFiles.add(dir.resolve("child.pid"));
        pidFiles.add(dir.resolve("grandchild.pid"));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--backend", server.clientUri(), "--", "sh", "-c", HOLDER, dir.toString()));
        Process cli = cli("first", all.toArray(String[]::new));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> Files.exists(dir.resolve("ticks")) && Files.size(dir.resolve("grandchild.pid")) > 0);
        awaitGuardTold(cli);
        return cli;
    }

    /**
     * Waits until {@code cli}'s guard has read the line that names its command. The CLI writes it
     * right after the command has started; a SIGKILL before that line leaves the command unguarded
     * (ChildGuard says so), and on a loaded machine the command can run for a while before the
     * CLI's thread writes it. The guard reads nothing else, so its first bytes read ({@code rchar}
     * in {@code /proc/PID/io}) are that line.
     */
    private static void awaitGuardTold(Process cli) {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> cli.children()
                        .filter(p -> p.info()
                                .arguments()
                                .map(a -> List.of(a).contains("holdfast-child-guard"))
                                .orElse(false))
                        .anyMatch(guard -> bytesRead(guard.pid()) > 0));
    }

    private static long bytesRead(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "io")).stream()
                    .filter(line -> line.startsWith("rchar:"))
                    .mapToLong(line ->
                            Long.parseLong(line.substring("rchar:".length()).strip()))
                    .findFirst()
                    .orElse(0);
        } catch (IOException e) {
            return 0;
        }
    }

    @Test
    void aSigkilledLockStopsItsCommandAndWhatItStartedBeforeTheNextHolderIsGranted() throws Exception {
        Process first = holding("lock", "it/killed", "--lease-timeout", "3s");
        long child = pid(dir.resolve("child.pid"));
        long grandchild = pid(dir.resolve("grandchild.pid"));

        first.destroyForcibly(); // SIGKILL: no shutdown hook runs
        long killed = System.nanoTime();
        // The next holder, granted once the first one's lease times out, records what still runs.
        Process second = cli(
                "second",
                "lock",
                "it/killed",
                "--wait",
                "30s",
                "--backend",
                server.clientUri(),
                "--",
                "sh",
                "-c",
                "for p in $(cat \"$0/child.pid\" \"$0/grandchild.pid\"); do"
                        + " if [ -e /proc/$p ] && [ \"$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f1)\" != Z ];"
                        + " then echo \"alive $p\"; fi; done > \"$0/seen\"",
                dir.toString());

        await().atMost(GONE_WITHIN).pollInterval(Duration.ofMillis(20)).until(() -> gone(child) && gone(grandchild));
        System.out.printf("command and its child gone %d ms after the SIGKILL%n", elapsedMillis(killed));
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as(output("second")).isZero();
        assertThat(Files.readString(dir.resolve("seen")))
                .as("what the next holder found still running")
                .isEmpty();
        assertThat(output("first"))
                .contains("holdfast lock (pid " + first.pid() + ") died while its command ran; stopping the command"
                        + " (pid " + child + "), SIGKILL after 5000ms");
    }

    @Test
    void aSigkilledElectStopsItsCommandWithinASecond() throws Exception {
        Process first = holding("elect", "it/killed-leader", "--wait", "30s");
        long child = pid(dir.resolve("child.pid"));
        long grandchild = pid(dir.resolve("grandchild.pid"));

        first.destroyForcibly();
        long killed = System.nanoTime();

        await().atMost(GONE_WITHIN).pollInterval(Duration.ofMillis(20)).until(() -> gone(child) && gone(grandchild));
        System.out.printf("elected command and its child gone %d ms after the SIGKILL%n", elapsedMillis(killed));
    }

    @Test
    void aCommandThatIgnoresSigtermIsKilledAfterTheGrace() throws Exception {
        pidFiles.add(dir.resolve("stubborn.pid"));
        Process first = cli(
                "first",
                "lock",
                "it/stubborn",
                "--grace",
                "1s",
                "--backend",
                server.clientUri(),
                "--",
                "sh",
                "-c",
                "trap '' TERM; echo $$ > \"$0/stubborn.pid\"; while :; do sleep 0.1; done",
                dir.toString());
        await().atMost(Duration.ofSeconds(60))
                .until(() -> Files.exists(dir.resolve("stubborn.pid")) && Files.size(dir.resolve("stubborn.pid")) > 0);
        awaitGuardTold(first);
        long child = pid(dir.resolve("stubborn.pid"));

        first.destroyForcibly();
        long killed = System.nanoTime();

        // SIGTERM comes at once and is ignored: the command lives through most of the grace...
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(1)).until(() -> !gone(child));
        // ...and SIGKILL ends it when the grace is over.
        await().atMost(GONE_WITHIN).pollInterval(Duration.ofMillis(20)).until(() -> gone(child));
        long took = elapsedMillis(killed);
        System.out.printf("command that ignores SIGTERM gone %d ms after the SIGKILL (--grace 1s)%n", took);
        assertThat(took).isGreaterThanOrEqualTo(1000);
    }

    /**
     * SIGTERM to a CLI that is still waiting (for a lock, or to be elected): it ends with the
     * signal's code, without a line of its own (it said "the client was closed (SESSION_EXPIRED)",
     * as if something had gone wrong), and leaves no wait behind.
     */
    @Test
    void aSigtermWhileWaitingEndsQuietlyWithTheSignalsCode() throws Exception {
        holding("lock", "it/waited");
        Process lockWaiter =
                cli("lock-waiter", "lock", "it/waited", "--wait", "60s", "--backend", server.clientUri(), "--", "true");
        try (io.holdfast.LockClient observer = io.holdfast.LockClient.open(server.clientUri())) {
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> observer.admin()
                                    .describe("it/waited")
                                    .map(i -> i.waiters().size())
                                    .orElse(0)
                            == 1);
            lockWaiter.destroy(); // SIGTERM
            assertThat(lockWaiter.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(lockWaiter.exitValue()).isEqualTo(143);
            assertThat(output("lock-waiter")).as("what the waiter printed").isEmpty();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> observer.admin()
                            .describe("it/waited")
                            .map(i -> i.waiters().isEmpty())
                            .orElse(true));
        }
    }

    /** Gone: no such process, or a zombie that nobody has reaped yet (it runs no more). */
    private static boolean gone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    private static long pid(Path file) throws IOException {
        return Long.parseLong(Files.readString(file).strip());
    }

    private static long elapsedMillis(long since) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }

    private String output(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".out"));
    }
}
