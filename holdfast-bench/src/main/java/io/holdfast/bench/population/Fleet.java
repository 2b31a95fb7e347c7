package io.holdfast.bench.population;

import io.holdfast.bench.population.CrowdWorker.Answer;
import io.holdfast.bench.population.CrowdWorker.Request;
import io.holdfast.bench.population.PopulationBench.Step;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The population carried by several processes: N worker JVMs ({@link CrowdWorker}), each with a {@link Crowd} of its
 * own, started on this JVM's {@code java} ({@code java.home}) and class path with their own JVM options, driven
 * over their standard input and output. Each step is split among them: worker w (from 0) carries the items {@code
 * i} of the step with {@code i mod N == w}, so a share never shrinks as a step grows; its locks are named {@code
 * population/w(w+1)/lock-i}, and its waiters wait on its own locks. Sessions open at {@code openRate / N} a second
 * in each worker when a rate is given. A request goes to every worker at once and their answers are summed.
 *
 * <p>Guaranteed: every worker is killed by {@link #close()} (after it was asked to close its sessions, within 30
 * s), and by a shutdown hook if this JVM exits first; a worker whose coordinator died ends by itself (its standard
 * input ends). Failure story: a worker that fails a request or dies makes the request throw, naming the worker and
 * its error or its log's last line ({@code worker-N.log} under the run's directory).
 */
final class Fleet implements Generator {
    /** One worker process and its pipes. */
    private record Worker(int number, Process process, Writer requests, BufferedReader answers, Path log) {
        @Override
        public String toString() {
            return "worker " + number;
        }
    }

    private final List<Worker> workers = new ArrayList<>();
    private final Thread hook = new Thread(this::killAll, "population-workers-shutdown");

    /**
     * Starts the workers and waits until each has its crowd (its first connection to the cluster).
     *
     * @param jvmOptions the workers' JVM options (e.g. {@code -Xmx1g})
     * @param openRate sessions per second across the fleet; 0 or less for as fast as they open
     * @param dir where each worker's log goes ({@code worker-N.log})
     * @throws IOException if a worker cannot be started or did not start its crowd
     */
    Fleet(
            int processes,
            List<String> jvmOptions,
            String uri,
            Duration sessionTtl,
            int sessionsPerConnection,
            double openRate,
            Path dir)
            throws IOException {
        Runtime.getRuntime().addShutdownHook(hook);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try {
            for (int w = 1; w <= processes; w++) {
                List<String> cmd = new ArrayList<>();
                cmd.add(java);
                // The JVM's own warnings (unified logging writes them to stdout by default) go to the
                // log: stdout carries the answers, and a "[warning][os,thread] Failed to start
                // thread" line written into one split its JSON (2026-11-30, 100,000 sessions).
                cmd.addAll(List.of("-Xlog:disable", "-Xlog:all=warning:stderr"));
                cmd.addAll(jvmOptions);
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CrowdWorker.class.getName()));
                cmd.addAll(List.of(
                        uri,
                        Long.toString(sessionTtl.toMillis()),
                        Integer.toString(sessionsPerConnection),
                        "population/w" + w + "/",
                        Double.toString(openRate > 0 ? openRate / processes : 0)));
                workers.add(start(w, cmd, dir.resolve("worker-" + w + ".log")));
            }
            for (Worker w : workers) {
                Answer ready = read(w);
                if (!ready.ok()) {
                    throw new IOException(w + " did not start its crowd: " + ready.error());
                }
            }
        } catch (IOException | RuntimeException e) {
            killAll();
            throw e;
        }
    }

    private static Worker start(int number, List<String> cmd, Path log) throws IOException {
        Files.deleteIfExists(log);
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new Worker(
                number,
                p,
                new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8),
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)),
                log);
    }

    /** The worker processes' ids. */
    List<Long> pids() {
        return workers.stream().map(w -> w.process().pid()).toList();
    }

    /** Worker w's (from 0) share of {@code count} items: those {@code i < count} with {@code i mod N == w}. */
    static int share(int count, int w, int processes) {
        return count / processes + (w < count % processes ? 1 : 0);
    }

    @Override
    public void grow(Step step) {
        all(w -> new Request("grow", step.kind(), share(step.count(), w, workers.size()), null, 0));
    }

    @Override
    public List<Tally> tallies() {
        return all(w -> new Request("tally", null, 0, null, 0)).stream()
                .map(Answer::tally)
                .toList();
    }

    @Override
    public void killing(String member, Duration window) {
        all(w -> new Request("killing", null, 0, member, window.toMillis()));
    }

    @Override
    public KillTally afterKill() {
        return KillTally.sum(all(w -> new Request("afterKill", null, 0, null, 0)).stream()
                .map(Answer::kill)
                .toList());
    }

    /**
     * Sends each worker its request, then reads every answer; throws naming the first worker that failed.
     *
     * @throws IllegalStateException if a worker failed the request or is gone
     */
    private List<Answer> all(IntFunction<Request> request) {
        List<Worker> sent = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Worker w : workers) {
            try {
                w.requests().write(CrowdWorker.JSON.writeValueAsString(request.apply(w.number() - 1)) + "\n");
                w.requests().flush();
                sent.add(w);
            } catch (IOException e) {
                failures.add(gone(w, e));
            }
        }
        List<Answer> answers = new ArrayList<>();
        for (Worker w : sent) {
            try {
                Answer a = read(w);
                if (a.ok()) {
                    answers.add(a);
                } else {
                    failures.add(w + ": " + a.error());
                }
            } catch (IOException e) {
                failures.add(gone(w, e));
            }
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException(String.join("; ", failures));
        }
        return answers;
    }

    /** The worker's next answer (lines that are no JSON object are skipped). */
    private static Answer read(Worker w) throws IOException {
        for (String line; (line = w.answers().readLine()) != null; ) {
            if (line.startsWith("{")) {
                return CrowdWorker.JSON.readValue(line, Answer.class);
            }
        }
        throw new IOException("its output ended");
    }

    private static String gone(Worker w, IOException e) {
        String exit = w.process().isAlive() ? "running" : "exit " + w.process().exitValue();
        return w + " is gone (" + e.getMessage() + ", " + exit + "): " + lastLine(w.log());
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (lines.get(i).contains("Error") || lines.get(i).contains("Exception")) {
                    return lines.get(i).strip();
                }
            }
            return lines.isEmpty() ? "(empty log)" : lines.get(lines.size() - 1).strip();
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void killAll() {
        for (Worker w : workers) {
            w.process().destroyForcibly();
        }
    }

    /** Asks every worker to close its sessions and exit; kills those still running 30 s later, and waits for them. */
    @Override
    public void close() throws InterruptedException {
        try {
            all(w -> new Request("close", null, 0, null, 0));
        } catch (IllegalStateException e) {
            // a worker that failed to answer is killed below
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (Worker w : workers) {
            w.process().waitFor(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        killAll();
        for (Worker w : workers) {
            w.process().waitFor(10, TimeUnit.SECONDS);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }
}
