package io.holdfast.cli;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command that {@code holdfast lock} and {@code holdfast elect} run: it shares this process's stdin, stdout
 * and stderr, and its exit code is reported the way a shell does (128 + N when killed by signal N). On Linux a
 * {@link ChildGuard} stops it if this process dies without stopping it first.
 */
final class ChildProcess {
    private static final Pattern ERRNO = Pattern.compile("error[=:]\\s*(\\d+),?\\s*\\(?([^()]*?)\\)?\\s*$");

    private final Process process;
    private final Optional<ChildGuard> guard;

    private ChildProcess(Process process, Optional<ChildGuard> guard) {
        this.process = process;
        this.guard = guard;
    }

    /**
     * Starts {@code command} with this process's environment plus {@code extraEnv}, and its guard: should this
     * process die while the command runs, the guard stops the command (SIGTERM, then SIGKILL after {@code grace}).
     *
     * @param who the CLI's name in the guard's message ({@code holdfast lock})
     * @throws CliFailure with exit code 127 if the program is not found, 126 if it cannot be started
     */
    static ChildProcess start(List<String> command, Map<String, String> extraEnv, Duration grace, String who) {
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().putAll(extraEnv);
        // The guard first: what lies between the command's start and its guard is then one line on a pipe.
        Optional<ChildGuard> guard = ChildGuard.arm(grace, who);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            guard.ifPresent(ChildGuard::dismiss);
            throw cannotRun(command.get(0), e);
        }
        return new ChildProcess(process, guard.filter(g -> g.watch(process)));
    }

    /**
     * ENOENT is 127, anything else (EACCES, ENOEXEC...) 126, as in the shell. The errno is read from the
     * message, whose form differs between JDKs: "error=2, No such file or directory" (17) and
     * "Exec failed, error: 2 (No such file or directory)" (25).
     */
    static CliFailure cannotRun(String program, IOException e) {
        String message = String.valueOf(e.getMessage());
        Matcher m = ERRNO.matcher(message);
        boolean found = m.find();
        boolean notFound = found && m.group(1).equals("2");
        String reason = found ? m.group(2).strip() : message;
        return new CliFailure(
                notFound ? ExitCodes.COMMAND_NOT_FOUND : ExitCodes.CANNOT_RUN,
                "cannot run '" + program + "': " + reason,
                e);
    }

    /** Waits for the command to end, dismisses its guard and returns its exit code. */
    int waitFor() throws InterruptedException {
        int exit = process.waitFor();
        guard.ifPresent(ChildGuard::dismiss);
        return exit;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Stops the command and the processes it started: SIGTERM to each, then SIGKILL to those still alive after
     * {@code grace}. Returns when the command has ended, or after the SIGKILL.
     */
    void stop(Duration grace) {
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(process.toHandle());
        process.descendants().forEach(tree::add);
        tree.forEach(ProcessHandle::destroy);
        try {
            process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        guard.ifPresent(ChildGuard::dismiss);
    }

    /** {@link #stop(Duration)} on a thread of its own, for callers that must not block. */
    void stopInBackground(Duration grace) {
        Thread stopper = new Thread(() -> stop(grace), "holdfast-lock-stop");
        stopper.setDaemon(true);
        stopper.start();
    }
}
