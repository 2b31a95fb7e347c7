// Ceiling 420 lines, one idea: a JVM the harness started (signals, its line protocol, its log, its
// class-data archive); the parts share the process handle.
package io.holdfast.verify.run;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p><b>Start-up.</b> A run starts ten JVMs or so, and a restart fault starts more; on two cores
 * most of a start is loading and verifying the same few thousand classes (gRPC, Netty, Ratis).
 * When {@link #useClassArchives(Path)} names a directory, children share an AppCDS archive per
 * kind (main class and JVM options): the first child of a kind writes one when it exits cleanly
 * ({@code -XX:ArchiveClassesAtExit}), later ones map it ({@code -XX:SharedArchiveFile}). The
 * archive's name carries the JDK and the class path's files (size, time), so a rebuilt jar or
 * another JDK never uses a stale one; a child killed while writing one leaves none. What the
 * children run is the same either way: an archive only saves the class loading.
 */
final class Child implements AutoCloseable {
    /** The archive kinds some child is writing now (one writer per kind). */
    private static final Set<String> WRITING = ConcurrentHashMap.newKeySet();

    /** How long a child asked to stop may take to exit before it is killed. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    /**
     * How long a child that writes a class archive at its exit may take: dumping tens of megabytes
     * of classes takes seconds on a busy machine, and a child killed while writing leaves none.
     */
    private static final Duration ARCHIVE_STOP_GRACE = Duration.ofSeconds(60);

    /** Children asked to stop whose exit {@link #closeInBackground} waits for. */
    private static final List<Thread> CLOSING = new ArrayList<>();

    private static volatile Path archiveDir;

    private final String name;
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final PrintWriter stdin;
    private volatile boolean paused;

    /** The archive this child writes at exit (a temporary name, and the name it then gets), or null. */
    private final Path archiveWritten;

    private final Path archiveTarget;
    private final String archiveKind;
    private boolean archiveSettled;

    private Child(String name, Process process, Path log, String archiveKind, Path written, Path target) {
        this.name = name;
        this.process = process;
        this.archiveKind = archiveKind;
        this.archiveWritten = written;
        this.archiveTarget = target;
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
        String classPath = System.getProperty("java.class.path");
        String kind = archiveKind(jvmArgs, mainClass, classPath);
        Path written = null;
        Path target = null;
        if (kind != null) {
            target = archiveDir.resolve(kind + ".jsa");
            if (Files.isRegularFile(target)) {
                cmd.add("-XX:SharedArchiveFile=" + target);
            } else if (WRITING.add(kind)) {
                Files.createDirectories(archiveDir);
                written = archiveDir.resolve(
                        kind + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
                cmd.add("-XX:ArchiveClassesAtExit=" + written);
            } else {
                kind = null; // another child of this kind is writing it: start without
                target = null;
            }
            // the JVM's own warnings (an archive it cannot use, say) go to the log, not the protocol
            cmd.add("-Xlog:disable");
            cmd.add("-Xlog:all=warning:stderr");
        }
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(mainClass);
        cmd.addAll(args);
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            if (written != null) {
                WRITING.remove(kind);
            }
            throw e;
        }
        return new Child(name, process, log, written == null ? null : kind, written, target);
    }

    /**
     * Children started from now on share class archives in {@code dir} (see the class comment);
     * null: none.
     */
    static void useClassArchives(Path dir) {
        archiveDir = dir;
    }

    /**
     * The archive name for this kind of child, or null when archives are off or the class path has
     * anything but jar files (the JVM archives classes from jars only): the main class, a digest of
     * the JDK, the options that shape the archive (not the -D properties) and every jar's path, size
     * and time.
     */
    private static String archiveKind(List<String> jvmArgs, String mainClass, String classPath) {
        Path dir = archiveDir;
        if (dir == null || classPath == null || classPath.isEmpty()) {
            return null;
        }
        StringBuilder key = new StringBuilder()
                .append(System.getProperty("java.home"))
                .append('|')
                .append(System.getProperty("java.vm.version"));
        for (String a : jvmArgs) {
            if (!a.startsWith("-D")) {
                key.append('|').append(a);
            }
        }
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path jar = Path.of(entry);
            try {
                if (!entry.endsWith(".jar") || !Files.isRegularFile(jar)) {
                    return null;
                }
                key.append('|')
                        .append(jar.toAbsolutePath())
                        .append(':')
                        .append(Files.size(jar))
                        .append(':')
                        .append(Files.getLastModifiedTime(jar).toMillis());
            } catch (IOException e) {
                return null;
            }
        }
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256").digest(key.toString().getBytes(StandardCharsets.UTF_8));
            return mainClass.substring(mainClass.lastIndexOf('.') + 1) + "-"
                    + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            return null;
        }
    }

    /**
     * Once the child is gone: the archive it wrote at a clean exit takes its name; one that a
     * SIGKILL or a crash may have cut short is deleted, and the next child of its kind writes it
     * again.
     */
    private synchronized void settleArchive(boolean killed) {
        if (archiveWritten == null || archiveSettled || process.isAlive()) {
            return;
        }
        archiveSettled = true;
        try {
            // exit codes above 128 are signals: 143 is the SIGTERM the JVM shut down on (it writes
            // the archive on that way out); any other (SIGKILL, a crash) may have cut it short
            int code = process.exitValue();
            boolean clean = !killed && (code < 128 || code == 143);
            if (clean && Files.isRegularFile(archiveWritten) && Files.size(archiveWritten) > 0) {
                Files.move(
                        archiveWritten,
                        archiveTarget,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.deleteIfExists(archiveWritten);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(archiveWritten);
            } catch (IOException ignored) {
                // a stray temporary file; never used
            }
        } finally {
            WRITING.remove(archiveKind);
        }
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
        settleArchive(true);
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
        settleArchive(false);
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
        List<Child> copy = List.copyOf(children);
        Thread t = new Thread(
                () -> copy.forEach(Child::close), "verify-close-" + (copy.isEmpty() ? "none" : copy.get(0).name));
        synchronized (CLOSING) {
            CLOSING.add(t);
        }
        t.start();
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
                terminate(archiveWritten == null ? STOP_GRACE : ARCHIVE_STOP_GRACE);
            } else {
                settleArchive(false); // it exited by itself (a worker after "close")
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
