package io.holdfast.examples.coupons;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One instance of the coupon service as a process of its own ({@link CouponInstance}), seen from the driver:
 * its stdout lines as they come, its stdin, its log, and the signals that stop and resume it. Every failure
 * names the instance and ends with the last lines of its log.
 */
final class InstanceProcess {
    final int index;
    final Process process;
    final Path log;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final PrintWriter stdin;

    private InstanceProcess(int index, Process process, Path log) {
        this.index = index;
        this.process = process;
        this.log = log;
        this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread pump = new Thread(this::pump, "coupons-instance-" + index);
        pump.setDaemon(true);
        pump.start();
    }

    static InstanceProcess start(int index, List<String> command, String dbPassword, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().put(CouponInstance.PASSWORD_ENV, dbPassword);
        return new InstanceProcess(index, pb.start(), log);
    }

    private void pump() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException ignored) {
            // the process is gone; expect() notices
        }
    }

    void send(String line) {
        stdin.println(line);
    }

    void expect(String wanted, Duration timeout) throws InterruptedException {
        String line = next(timeout, "print " + wanted);
        if (!line.equals(wanted)) {
            throw failure("printed '" + line + "' instead of " + wanted);
        }
    }

    /**
     * The next line if there is one, else null.
     *
     * @throws IllegalStateException if the process has ended without a line left, or the deadline passed
     */
    String poll(String what, long deadline) {
        String line = lines.poll();
        if (line != null) {
            return line;
        }
        if (!process.isAlive() && lines.isEmpty()) {
            throw failure("exited with " + process.exitValue() + " before it could " + what);
        }
        if (System.nanoTime() > deadline) {
            throw failure("did not " + what + " within " + Durations.text(StrategyRun.RUN_TIMEOUT));
        }
        return null;
    }

    private String next(Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null) {
                return line;
            }
            if (!process.isAlive() && lines.isEmpty()) {
                throw failure("exited with " + process.exitValue() + " before it could " + what);
            }
            if (System.nanoTime() > deadline) {
                throw failure("did not " + what + " within " + Durations.text(timeout));
            }
        }
    }

    void signal(String signal) throws InterruptedException {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                    .redirectErrorStream(true)
                    .start();
            if (kill.waitFor() != 0) {
                throw failure("could not be sent SIG" + signal);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + signal, e);
        }
    }

    void awaitExit() throws InterruptedException {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw failure("did not exit after reporting");
        }
        if (process.exitValue() != 0) {
            throw failure("exited with " + process.exitValue());
        }
    }

    void destroy() {
        if (process.isAlive()) {
            try {
                signal("CONT");
            } catch (RuntimeException | InterruptedException ignored) {
                // it is being killed anyway
            }
            process.destroyForcibly();
        }
    }

    IllegalStateException failure(String what) {
        String tail = "";
        try {
            List<String> all = Files.readAllLines(log);
            tail = String.join(System.lineSeparator() + "    ", all.subList(Math.max(0, all.size() - 10), all.size()));
        } catch (IOException ignored) {
            // no log to show
        }
        return new IllegalStateException("coupon instance " + index + " " + what + " (log: " + log + ")"
                + (tail.isBlank() ? "" : System.lineSeparator() + "    " + tail));
    }
}
