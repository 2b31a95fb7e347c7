package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guard's rules, with the guard's real script and real processes: it stops the command and what
 * it started when its lifeline ends without a word, and never otherwise: not once dismissed, and not
 * a process that is not the one it was given (a reused pid). The CLI killed for real is holdfast-it's
 * {@code CliKilledTest}.
 */
@EnabledOnOs(OS.LINUX)
class ChildGuardTest {
    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killWhatIsLeft() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** A command that starts a process of its own ({@code dir/grandchild.pid}) and runs until killed. */
    private Process command() throws IOException {
        Process command = new ProcessBuilder(
                        "sh",
                        "-c",
                        "sleep 600 & echo $! > \"$0/grandchild.pid\"; while :; do sleep 0.1; done",
                        dir.toString())
                .start();
        started.add(command);
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        Files.exists(dir.resolve("grandchild.pid")) && Files.size(dir.resolve("grandchild.pid")) > 0);
        return command;
    }

    private long grandchild() throws IOException {
        return Long.parseLong(Files.readString(dir.resolve("grandchild.pid")).strip());
    }

    /** A guard, armed and told that it guards {@code pid}, which started at {@code start}. */
    private Process guard(long pid, long start) throws IOException {
        Process guard = armed();
        guard.getOutputStream().write((pid + " " + start + "\n").getBytes(StandardCharsets.US_ASCII));
        guard.getOutputStream().flush();
        return guard;
    }

    /** A guard as the CLI starts it, before the command: not told of any command yet. */
    private Process armed() throws IOException {
        Process guard = ChildGuard.guard(Duration.ZERO, "holdfast lock")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        started.add(guard);
        return guard;
    }

    private static long startTime(Process command) {
        OptionalLong start =
                ChildGuard.startTime(command.pid(), ProcessHandle.current().pid());
        assertThat(start).isPresent();
        return start.getAsLong();
    }

    @Test
    void aLifelineThatEndsWithoutALineStopsTheCommandAndWhatItStarted() throws Exception {
        Process command = command();
        long grandchild = grandchild();
        Process guard = guard(command.pid(), startTime(command));

        guard.getOutputStream().close(); // what the kernel does when the CLI dies

        assertThat(guard.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(command.waitFor(5, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(2)).until(() -> gone(grandchild));
    }

    @Test
    void aGuardWhoseLifelineEndsBeforeItIsToldACommandExitsQuietly() throws Exception {
        Process command = command();
        Process guard = armed();

        guard.getOutputStream().close();

        assertThat(guard.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(guard.exitValue()).isZero();
        assertThat(command.isAlive()).isTrue();
    }

    @Test
    void aGuardDismissedBeforeItIsToldACommandExitsQuietly() throws Exception {
        Process guard = armed();

        guard.getOutputStream().write("done\n".getBytes(StandardCharsets.US_ASCII));
        guard.getOutputStream().close();

        assertThat(guard.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(guard.exitValue()).isZero();
    }

    /**
     * The guard is started before the command (CI once killed a CLI in the gap between the two, and
     * the command outlived it), so its pid is the smaller: Linux hands out pids in increasing order
     * until they wrap at {@code pid_max}. Started after the command, as it was, its pid is the larger.
     */
    @Test
    void theGuardIsStartedBeforeTheCommand() throws Exception {
        Path pid = dir.resolve("command.pid");
        ChildProcess child = ChildProcess.start(
                List.of(
                        "sh",
                        "-c",
                        "echo $$ > \"$0\"; while [ ! -e \"$0.stop\" ]; do sleep 0.05; done",
                        pid.toString()),
                Map.of(),
                Duration.ofSeconds(5),
                "holdfast lock");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pid) && Files.size(pid) > 0);
        long command = Long.parseLong(Files.readString(pid).strip());
        List<Long> guards = guardPids();

        Files.createFile(dir.resolve("command.pid.stop"));
        assertThat(child.waitFor()).isZero();
        assertThat(guards).hasSize(1);
        assertThat(guards.get(0))
                .as("the guard's pid, beside the command's " + command)
                .isLessThan(command);
    }

    @Test
    void aDismissedGuardSignalsNothing() throws Exception {
        Process command = command();
        Process guard = guard(command.pid(), startTime(command));

        guard.getOutputStream().write("done\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        guard.getOutputStream().close();

        assertThat(guard.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(guard.exitValue()).isZero();
        assertThat(command.isAlive()).isTrue();
        assertThat(gone(grandchild())).isFalse();
    }

    @Test
    void aPidThatIsNoLongerTheCommandIsNotSignalled() throws Exception {
        Process command = command();
        // The same pid with another start time: what a pid reused by another process looks like.
        Process guard = guard(command.pid(), startTime(command) + 1);

        guard.getOutputStream().close();

        assertThat(guard.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(command.isAlive()).isTrue();
        assertThat(gone(grandchild())).isFalse();
    }

    @Test
    void theStartTimeIsReadOnlyForAChildOfTheGivenParent() throws Exception {
        Process command = command();

        assertThat(ChildGuard.startTime(command.pid(), ProcessHandle.current().pid()))
                .isPresent();
        assertThat(ChildGuard.startTime(command.pid(), 1)).isEmpty();
        command.destroyForcibly().waitFor();
        assertThat(ChildGuard.startTime(command.pid(), ProcessHandle.current().pid()))
                .isEmpty();
    }

    @Test
    void aCommandThatEndsTakesItsGuardWithIt() throws Exception {
        ChildProcess child = ChildProcess.start(
                List.of("sh", "-c", "while [ ! -e \"$0/stop\" ]; do sleep 0.05; done", dir.toString()),
                Map.of(),
                Duration.ofSeconds(5),
                "holdfast lock");
        await().atMost(Duration.ofSeconds(5)).until(() -> guards() == 1);

        Files.createFile(dir.resolve("stop"));

        assertThat(child.waitFor()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> guards() == 0);
    }

    /** This JVM's children that are guards. */
    private static long guards() {
        return guardPids().size();
    }

    private static List<Long> guardPids() {
        return ProcessHandle.current()
                .children()
                .filter(p -> p.info()
                        .arguments()
                        .map(a -> List.of(a).contains("holdfast-child-guard"))
                        .orElse(false))
                .map(ProcessHandle::pid)
                .toList();
    }

    /** Gone: no such process, or a zombie that nobody has reaped yet (it runs no more). */
    static boolean gone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }
}
