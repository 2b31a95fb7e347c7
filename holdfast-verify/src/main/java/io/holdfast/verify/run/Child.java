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
 * A JVM the harness started (a server node or a client worker): its PID for signals, a line
 * protocol over its stdin/stdout, and its stderr in a log file.
 *
 * <p>Signals go through {@code kill(1)}: SIGKILL ({@link #kill()}), SIGSTOP ({@link #pause()}),
 * SIGCONT ({@link #resume()}), SIGTERM ({@link #terminate(Duration)}). A paused process stays
 * paused until resumed; {@link #close()} resumes it first so that it can die.
 *
 * <p><b>Start-up.</b> Children of a kind share a class-data archive when {@link
 * ClassArchive#useDirectory(Path)} names a directory ({@link ClassArchive}: the first child of a
 * kind writes it at its exit, later ones map it). The child settles its archive once it is gone,
 * however it went, and a child that writes one gets longer to stop.
 */
final class Child implements AutoCloseable {
    /** How long a child asked to stop may take to exit before it is killed. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    /**
     * How long a child that writes a class archive at its exit may take: dumping tens of megabytes
     * of classes takes seconds on a busy machine, and a child killed while writing leaves none.
     */
    private static final Duration ARCHIVE_STOP_GRACE = Duration.ofSeconds(60);

    /** Children asked to stop whose exit {@link #closeInBackground} waits for. */
    private static final List<Thread> CLOSING = new ArrayList<>();

    private final String name;
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final PrintWriter stdin;
    private volatile boolean paused;

    private final ClassArchive archive;

    private Child(String name, Process process, Path log, ClassArchive archive) {
        this.name = name;
        this.process = process;
        this.archive = archive;
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
        return start(name, jvmArgs, mainClass, args, log, java.util.Map.of());
    }

    /** As {@link #start(String, List, String, List, Path)}, with these variables added to its environment. */
    static Child start(
            String name,
            List<String> jvmArgs,
            String mainClass,
            List<String> args,
            Path log,
            java.util.Map<String, String> environment)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        String classPath = System.getProperty("java.class.path");
        ClassArchive archive = ClassArchive.forChild(jvmArgs, mainClass, classPath);
        cmd.addAll(archive.options());
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(mainClass);
        cmd.addAll(args);
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().putAll(environment);
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            archive.abandon();
            throw e;
        }
        return new Child(name, process, log, archive);
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
                throw new IOException(
                        name + " did not say " + String.join("/", prefixes) + " within " + Durations.format(timeout));
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
        archive.settle(process, true);
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
        archive.settle(process, false);
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

    /**
     * Closes these children ({@link #close()}: SIGTERM, SIGKILL after the grace) on a thread of
     * their own, so that the caller can go on while they shut down. {@link #awaitBackgroundCloses()}
     * waits for every one.
     */
    static void closeInBackground(List<Child> children) {
        children.forEach(Child::requestStop); // all at once
        inBackground(children, Child::close);
    }

    /**
     * As {@link #closeInBackground(List)}, but each child is first told {@code line} on its stdin
     * (all at once) and given its grace to exit on it; one still running then is closed as there.
     */
    static void closeInBackground(List<Child> children, String line) {
        children.forEach(c -> {
            c.resume();
            c.send(line);
        });
        inBackground(children, Child::closeOnceExited);
    }

    private static void inBackground(List<Child> children, java.util.function.Consumer<Child> close) {
        List<Child> copy = List.copyOf(children);
        Thread t =
                new Thread(() -> copy.forEach(close), "verify-close-" + (copy.isEmpty() ? "none" : copy.get(0).name));
        synchronized (CLOSING) {
            CLOSING.add(t);
        }
        t.start();
    }

    /** Waits up to its grace for the child to exit by itself, then {@link #close()}s it. */
    private void closeOnceExited() {
        try {
            process.waitFor((archive.writes() ? ARCHIVE_STOP_GRACE : STOP_GRACE).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /** Waits until every {@link #closeInBackground} has closed its children. */
    static void awaitBackgroundCloses() throws InterruptedException {
        while (true) {
            Thread t;
            synchronized (CLOSING) {
                if (CLOSING.isEmpty()) {
                    return;
                }
                t = CLOSING.remove(0);
            }
            t.join();
        }
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                terminate(archive.writes() ? ARCHIVE_STOP_GRACE : STOP_GRACE);
            } else {
                archive.settle(process, false); // it exited by itself (a worker after "close")
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
