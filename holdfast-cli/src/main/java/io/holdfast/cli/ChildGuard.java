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
 * command's tree (its parent died, so it was reparented) is out of reach, as it is for the CLI. The
 * guard is started before the command and told its pid right after, so a SIGKILL between the
 * command's start and that one line (a read of {@code /proc} and a write to a pipe: microseconds,
 * unless the JVM pauses right there) leaves the command unguarded.
 *
 * <p>Where it cannot hold ({@code /proc} missing: not Linux; no {@code /bin/sh}; the guard cannot
 * start), {@link #arm} returns empty and the CLI runs the command as before: docs/cli.md says so,
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
     * Starts a guard with no command yet, to be given one by {@link #watch}: started before the
     * command, so that the only gap in which a SIGKILL of the CLI leaves the command unguarded is
     * the command's start time read and one line written to a pipe, not the spawn of a process
     * (tens of milliseconds, and more on a loaded machine: the gap {@code CliKilledTest} once fell
     * into). Empty where a guard cannot hold (see the class comment).
     *
     * @param who the CLI's name in the guard's one line ({@code holdfast lock})
     */
    static Optional<ChildGuard> arm(Duration grace, String who) {
        if (!Files.isReadable(Path.of("/proc/self/stat")) || !Files.isExecutable(SHELL)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ChildGuard(guard(grace, who).start()));
        } catch (IOException e) {
            return Optional.empty(); // the command runs unguarded, as where there is no /bin/sh
        }
    }

    /**
     * Gives the guard the command it guards: {@code child}, which this JVM has just started. Returns
     * false, and dismisses the guard, when the command cannot be guarded (it has ended already, or
     * its start time cannot be read) or the guard is gone.
     */
    synchronized boolean watch(Process child) {
        OptionalLong started = startTime(child.pid(), ProcessHandle.current().pid());
        if (dismissed || started.isEmpty()) {
            dismiss();
            return false;
        }
        try {
            OutputStream lifeline = guard.getOutputStream();
            lifeline.write((child.pid() + " " + started.getAsLong() + "\n").getBytes(StandardCharsets.US_ASCII));
            lifeline.flush();
            return true;
        } catch (IOException e) {
            dismissed = true; // the guard ended already (someone killed it)
            return false;
        }
    }

    /**
     * The guard's process, not started: {@code /bin/sh} running {@code child-guard.sh} (passed in its
     * environment, so that {@code ps} shows a short line); its standard input is the lifeline, on
     * which its first line names the command ({@code PID START}, see {@link #watch}), its stderr
     * this process's.
     */
    static ProcessBuilder guard(Duration grace, String who) {
        ProcessBuilder builder = new ProcessBuilder(
                        SHELL.toString(),
                        "-c",
                        "eval \"$" + SCRIPT_VARIABLE + "\"",
                        "holdfast-child-guard",
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
