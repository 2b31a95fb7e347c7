package io.holdfast.floors;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Closed loops of writes against one started {@link Engine}: each of {@code threads} threads submits one entry and
 * waits for its answer before the next. Measures writes per second, p50/p99 per write, and this process's CPU per
 * write by thread group (names without numbers and member ids, so that like threads add up; the JIT, GC and ended
 * threads are what is left of the process's CPU).
 *
 * <p>Every answer is checked to be the entry written; a failed or wrong answer ends the measurement with an
 * exception rather than a figure.
 */
public final class Floor {
    /** One measured window. */
    public record Result(long writes, long nanos, Histogram latency, long cpuNanos, Map<String, Long> cpuByGroup) {
        public double writesPerSecond() {
            return writes / (nanos / 1e9);
        }

        public double p50Micros() {
            return latency.getValueAtPercentile(50) / 1000.0;
        }

        public double p99Micros() {
            return latency.getValueAtPercentile(99) / 1000.0;
        }

        public double cpuMicrosPerWrite() {
            return writes == 0 ? Double.NaN : cpuNanos / 1000.0 / writes;
        }

        /** The groups by CPU, largest first, as µs per write. */
        public List<Map.Entry<String, Double>> cpuGroups() {
            List<Map.Entry<String, Double>> out = new ArrayList<>();
            cpuByGroup.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                    .filter(e -> e.getValue() > 0)
                    .forEach(e -> out.add(Map.entry(e.getKey(), e.getValue() / 1000.0 / writes)));
            return out;
        }
    }

    private Floor() {}

    /**
     * {@link #measure}, then the engine's contract checked on what was measured: at least one write,
     * every write timed, and the leader's state machine applied at least as many entries as were
     * counted; a figure that breaks it is thrown away with an {@link IllegalStateException} in one line.
     */
    public static Result measureAndCheck(Engine engine, int threads, byte[] body, Duration d)
            throws InterruptedException {
        long appliedBefore = engine.applied();
        Result r = measure(engine, threads, body, d);
        long applied = engine.applied() - appliedBefore;
        if (r.writes() == 0 || r.latency().getTotalCount() != r.writes() || applied < r.writes()) {
            throw new IllegalStateException(engine.name() + ": " + r.writes() + " writes counted, "
                    + r.latency().getTotalCount() + " timed, " + applied + " applied by the leader's state machine");
        }
        return r;
    }

    public static Result measure(Engine engine, int threads, byte[] body, Duration d) throws InterruptedException {
        AtomicLong writes = new AtomicLong();
        AtomicLong submitterCpu = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Histogram latency = new Histogram(3);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Long> before = threadCpu(mx);
        long cpuBefore = processCpu();
        long start = System.nanoTime();
        long end = start + d.toNanos();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(
                    () -> {
                        long cpu0 = mx.getCurrentThreadCpuTime();
                        Histogram mine = new Histogram(3);
                        long n = 0;
                        try {
                            // At least one write per thread, even one that starts after the end (a
                            // loaded machine: EngineContractTest's 50 ms ran out before its thread ran).
                            do {
                                long t0 = System.nanoTime();
                                byte[] answer = engine.write(body).get(10, TimeUnit.SECONDS);
                                if (!Arrays.equals(answer, body)) {
                                    throw new IllegalStateException("the answer is not the entry written");
                                }
                                mine.recordValue(System.nanoTime() - t0);
                                n++;
                            } while (System.nanoTime() < end);
                        } catch (Exception e) {
                            throw new IllegalStateException(engine.name() + ": a write failed: " + e, e);
                        } finally {
                            writes.addAndGet(n);
                            submitterCpu.addAndGet(mx.getCurrentThreadCpuTime() - cpu0);
                            synchronized (latency) {
                                latency.add(mine);
                            }
                        }
                    },
                    "floor-submitter-" + t);
            w.setUncaughtExceptionHandler((thread, e) -> failure.compareAndSet(null, e));
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException(failure.get().getMessage(), failure.get());
        }
        long nanos = System.nanoTime() - start;
        long cpu = processCpu() - cpuBefore;
        Map<String, Long> byGroup = new LinkedHashMap<>();
        for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null || info.getThreadName().startsWith("floor-submitter-")) {
                continue;
            }
            long now = mx.getThreadCpuTime(info.getThreadId());
            long was = before.getOrDefault(info.getThreadId(), 0L);
            if (now > 0) {
                byGroup.merge(group(info.getThreadName()), now - was, Long::sum);
            }
        }
        byGroup.put("submitting threads", submitterCpu.get());
        long listed = byGroup.values().stream().mapToLong(Long::longValue).sum();
        byGroup.put("JIT, GC, ended threads", Math.max(0, cpu - listed));
        return new Result(writes.get(), nanos, latency, cpu, byGroup);
    }

    /** Thread names without their numbers, group ids and member ids, so that like threads add up. */
    static String group(String name) {
        String n = name.replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "G")
                .replaceAll("@group-[0-9A-F]+", "")
                .replaceAll("n[1-3]", "nX")
                .replaceAll("127\\.0\\.0\\.1:\\d+", "ADDR")
                .replaceAll("[-_]?\\d+$", "")
                .replaceAll("\\d+", "#");
        return n.length() > 28 ? n.substring(0, 28) : n;
    }

    /** One line a driver can parse: {@code FLOOR key=value ...}. */
    public static String line(String engine, int nodes, String phase, Result r) {
        return String.format(
                Locale.ROOT,
                "FLOOR engine=%s nodes=%d phase=%s writes=%d seconds=%.2f writes_per_s=%.0f p50_us=%.1f p99_us=%.1f"
                        + " cpu_us_per_write=%.1f",
                engine,
                nodes,
                phase,
                r.writes(),
                r.nanos() / 1e9,
                r.writesPerSecond(),
                r.p50Micros(),
                r.p99Micros(),
                r.cpuMicrosPerWrite());
    }

    private static Map<Long, Long> threadCpu(ThreadMXBean mx) {
        Map<Long, Long> cpu = new LinkedHashMap<>();
        for (long id : mx.getAllThreadIds()) {
            long n = mx.getThreadCpuTime(id);
            if (n > 0) {
                cpu.put(id, n);
            }
        }
        return cpu;
    }

    static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
