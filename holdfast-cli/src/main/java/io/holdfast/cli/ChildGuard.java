package io.holdfast.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Keeps a command from outliving the CLI that holds its lock: a small {@code /bin/sh} process (the
 * script {@code child-guard.sh} next to this class, no JVM), started right after the command, whose
 * standard input is a pipe from the CLI: the lifeline.
 *
 * <p>What it guarantees, on Linux: if the CLI dies without a word (SIGKILL, the OOM killer, a crash
 * of the JVM), the kernel closes the CLI's end of the pipe, the guard reads end-of-file and stops
 * the command and the processes it started (found through their parent pids in {@code /proc}) as
 * the CLI would have: SIGTERM, then SIGKILL after {@code --grace} to whatever is left. That happens
 * within a fraction of a second, long before the lock's session or lease can expire (unless
 * {@code --grace} is longer than that), so no second holder is granted while the first command
 * still runs. When the CLI ends normally, it {@linkplain #dismiss() dismisses} the guard (one line,
 * then close) as soon as the command has ended, and the guard exits without a signal.
 *
 * <p>What it does not do: it never signals a pid that is no longer the command or one of the
 * processes it found under it. The command's start time (field 22 of {@code /proc/PID/stat}, in
 * clock ticks since boot) is read here while the command is still this JVM's child, and each
 * process found later is recorded with its own; the guard checks both before each signal, so a pid
 * the system has reused since is left alone. It does not change the command's standard streams,
 * terminal or process group, and it ignores SIGINT, SIGHUP, SIGTERM and SIGQUIT (a Ctrl-C reaches
 * the CLI and the command as before, and the CLI stops the command itself). A process that left the
 * command's tree (its parent died, so it was reparented) is out of reach, as it is for the CLI. A
 * SIGKILL in the few milliseconds between starting the command and starting its guard leaves the
 * command unguarded.
 *
 * <p>Where it cannot hold ({@code /proc} missing: not Linux; no {@code /bin/sh}; the guard cannot
 * start), {@link #start} returns empty and the CLI runs the command as before: docs/cli.md says so,
 * and points to the fencing token as the real protection.
 *
 * <p>Why a guard process and not the alternatives: Java's {@code ProcessBuilder} can neither pass the
 * child an extra pipe nor call {@code prctl(PR_SET_PDEATHSIG)} in it. util-linux {@code setpriv
 * --pdeathsig} can, but that signal follows the death of the <em>thread</em> that forked (a JVM
 * thread may end while the CLI lives), is one signal (no SIGKILL after the grace for a command that
 * ignores SIGTERM), reaches the command only (not what it started), and {@code setpriv} is not
 * everywhere. A lifeline pipe is closed by the kernel whatever ends the CLI, and a shell has all the
 * rest.
 */
final class ChildGuard {
    private static final Path SHELL = Path.of("/bin/sh");
    private static final String SCRIPT_VARIABLE = "HOLDFAST_CHILD_GUARD";
    private static final String SCRIPT = script();

    private final Process guard;
    private boolean dismissed;

    private ChildGuard(Process guard) {
        this.guard = guard;
    }

    /**
     * Starts the guard of {@code child}, which this JVM started; empty where a guard cannot hold (see
     * the class comment) or when {@code child} has already ended.
     *
     * @param who the CLI's name in the guard's one line ({@code holdfast lock})
     */
    static Optional<ChildGuard> start(Process child, Duration grace, String who) {
        OptionalLong started = startTime(child.pid(), ProcessHandle.current().pid());
        if (started.isEmpty() || !Files.isExecutable(SHELL)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ChildGuard(
                    guard(child.pid(), started.getAsLong(), grace, who).start()));
        } catch (IOException e) {
            return Optional.empty(); // the command runs unguarded, as where there is no /bin/sh
        }
    }

    /**
     * The guard's process, not started: {@code /bin/sh} running {@code child-guard.sh} (passed in its
     * environment, so that {@code ps} shows a short line) for the process {@code pid} that started at
     * {@code start}; its standard input is the lifeline, its stderr this process's.
     */
    static ProcessBuilder guard(long pid, long start, Duration grace, String who) {
        ProcessBuilder builder = new ProcessBuilder(
                        SHELL.toString(),
                        "-c",
                        "eval \"$" + SCRIPT_VARIABLE + "\"",
                        "holdfast-child-guard",
                        Long.toString(pid),
                        Long.toString(start),
                        Long.toString(grace.toMillis()),
                        who)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put(SCRIPT_VARIABLE, SCRIPT);
        return builder;
    }

    /**
     * The start time of {@code pid} (field 22 of {@code /proc/PID/stat}) if its parent is {@code
     * parent}; empty without {@code /proc}, or when {@code pid} is gone or is not {@code parent}'s
     * child (any more).
     */
    static OptionalLong startTime(long pid, long parent) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
        } catch (IOException | UncheckedIOException e) {
            return OptionalLong.empty();
        }
        // "PID (COMM) STATE PPID ..." where COMM may hold spaces and parentheses: fields after the last ')'.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 1).strip().split(" ");
        if (fields.length < 20 || fields[0].equals("Z") || !fields[1].equals(Long.toString(parent))) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(fields[19]));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * Tells the guard to exit without a signal; call it once the command has ended, or once the CLI
     * has stopped it. Idempotent; a guard that is already gone is not an error.
     */
    synchronized void dismiss() {
        if (dismissed) {
            return;
        }
        dismissed = true;
        try (OutputStream lifeline = guard.getOutputStream()) {
            lifeline.write("done\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // The guard ended already (someone killed it): nothing to dismiss.
        }
    }

    private static String script() {
        try (InputStream in = ChildGuard.class.getResourceAsStream("child-guard.sh")) {
            if (in == null) {
                throw new IllegalStateException("child-guard.sh is missing from the CLI's jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
