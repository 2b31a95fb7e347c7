package io.holdfast.verify.run;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JVM the harness started (a server node, a client worker, a store): its PID for signals, a line
 * protocol over its stdin/stdout, and its stderr in a log file.
 *
 * <p>Signals go through {@code kill(1)}: SIGKILL ({@link #kill()}), SIGSTOP ({@link #pause()}),
 * SIGCONT ({@link #resume()}), SIGTERM ({@link #terminate(Duration)}). A paused process stays
 * paused until resumed; {@link #close()} resumes it first so that it can die.
 */
final class Child implements AutoCloseable {
    private final String name;
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final PrintWriter stdin;
    private volatile boolean paused;

    private Child(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> pump(log), "verify-" + name + "-out");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code java [jvmArgs] -cp <this JVM's class path> mainClass [args]}; stderr goes to
     * {@code log}, stdout lines are kept for {@link #expect} (and copied to the log).
     */
    static Child start(String name, List<String> jvmArgs, String mainClass, List<String> args, Path log)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        return new Child(name, pb.start(), log);
    }

    private void pump(Path log) {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
                try {
                    Files.writeString(
                            log,
                            "[stdout] " + line + System.lineSeparator(),
                            StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                } catch (IOException ignored) {
                    // the log is for people; the protocol line is kept
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    boolean isPaused() {
        return paused;
    }

    /** Sends one line to the child's stdin. */
    void send(String line) {
        stdin.println(line);
    }

    /**
     * Waits for the next stdout line that starts with one of {@code prefixes} (other lines are
     * skipped) and returns it.
     *
     * @throws IOException naming the child if it exits or the time runs out first
     */
    String expect(Duration timeout, String... prefixes) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException(name + " did not say " + String.join("/", prefixes) + " within " + timeout);
            }
            String line = lines.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
            if (line == null) {
                if (!process.isAlive() && lines.isEmpty()) {
                    throw new IOException(name + " exited with code " + process.exitValue() + " before saying "
                            + String.join("/", prefixes));
                }
                continue;
            }
            for (String p : prefixes) {
                if (line.startsWith(p)) {
                    return line;
                }
            }
        }
    }

    /** SIGKILL, and waits until the process is gone. */
    void kill() throws InterruptedException {
        if (paused) {
            signal("CONT");
            paused = false;
        }
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGSTOP: the process stops running until {@link #resume()}. */
    void pause() {
        if (signal("STOP")) {
            paused = true;
        }
    }

    /** SIGCONT. */
    void resume() {
        if (paused) {
            signal("CONT");
            paused = false;
        }
    }

    /** SIGTERM (after SIGCONT if paused) without waiting: {@link #close()} then waits. */
    void requestStop() {
        resume();
        process.destroy();
    }

    /** SIGTERM, then SIGKILL if it has not exited within {@code grace}. */
    void terminate(Duration grace) throws InterruptedException {
        resume();
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            kill();
        }
    }

    private boolean signal(String sig) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid()))
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot send SIG" + sig + " to " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                terminate(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }
}
