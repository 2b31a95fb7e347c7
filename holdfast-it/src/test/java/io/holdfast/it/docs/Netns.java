package io.holdfast.it.docs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A private network namespace with only its own loopback ({@code unshare -n}, then {@code ip link
 * set lo up}), and the processes run in it ({@code nsenter -n}). A snippet's servers take the
 * documented default ports there (4653, 4654, 4655) without colliding with anything on the
 * machine, and its clients reach them at the documented addresses: the snippets run as written.
 * Needs root (CI runs as root); {@link #unavailable()} says why not elsewhere.
 */
final class Netns implements AutoCloseable {
    /** A process started in the background, and when. */
    record Background(String where, String command, Process process, Path log, long startedNanos) {}

    private final Process holder;
    private final List<Background> background = new ArrayList<>();

    Netns() throws IOException {
        // The holder keeps the namespace; it reads its stdin, a pipe from this JVM, so it ends with it.
        holder = new ProcessBuilder("unshare", "-n", "sh", "-c", "ip link set lo up && echo up && exec cat >/dev/null")
                .redirectErrorStream(true)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (!"up".equals(first)) {
            holder.destroyForcibly();
            throw new IOException("unshare -n did not start a network namespace: " + first);
        }
    }

    /** Null if a network namespace can be made here, else why not. */
    static String unavailable() {
        try {
            new Netns().close();
            return null;
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    /** Starts {@code sh -c command} in the namespace, in {@code dir}, its output to {@code log}. */
    Process start(String command, Path dir, Map<String, String> env, Path log) throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(
                        "nsenter", "-t", String.valueOf(holder.pid()), "-n", "--", "sh", "-c", command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Runs {@code command} to its end; its exit code, or -1 if it ran past {@code timeout} (then it is killed). */
    int run(String command, Path dir, Map<String, String> env, Path log, Duration timeout)
            throws IOException, InterruptedException {
        Process p = start(command, dir, env, log);
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            stop(p);
            return -1;
        }
        return p.exitValue();
    }

    /** Starts {@code command} in the background, kept until {@link #stopBackground}. */
    Background background(String where, String command, Path dir, Map<String, String> env, Path log)
            throws IOException {
        Background b = new Background(where, command, start(command, dir, env, log), log, System.nanoTime());
        background.add(b);
        return b;
    }

    /**
     * Stops the background processes (SIGTERM to the process and its descendants, SIGKILL after 20
     * s), each once it has had {@code window} to fail; returns one line per process that exited with
     * a code other than 0 before being stopped.
     */
    List<String> stopBackground(Duration window) throws InterruptedException {
        List<String> failed = new ArrayList<>();
        for (Background b : background) {
            long left = window.toNanos() - (System.nanoTime() - b.startedNanos());
            if (left > 0) {
                b.process().waitFor(left, TimeUnit.NANOSECONDS);
            }
            if (!b.process().isAlive() && b.process().exitValue() != 0) {
                failed.add(b.where() + ": `" + b.command() + "` (in the background) exited "
                        + b.process().exitValue() + ": " + Tails.of(b.log()));
            }
        }
        stop(background.stream().map(Background::process).toList());
        background.clear();
        return failed;
    }

    static void stop(Process p) throws InterruptedException {
        stop(List.of(p));
    }

    /** SIGTERM to every process and its descendants at once, then SIGKILL to those left after 20 s. */
    static void stop(List<Process> processes) throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : processes) {
            all.addAll(p.descendants().toList());
            all.add(p.toHandle());
        }
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
            }
        }
    }

    @Override
    public void close() {
        try {
            stopBackground(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        holder.destroyForcibly();
    }
}
