package io.holdfast.bench;

import io.holdfast.core.LockTable;
import io.holdfast.core.SessionTracker;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.util.Locale;
import javax.management.ObjectName;

/**
 * Heap bytes per session and per held lock of a {@link LockTable}: builds a table with {@code
 * --sessions} sessions (default 100,000) holding {@code --locks-per-session} exclusive locks each
 * (default 10, so 1,000,000 held locks named like {@code orders/1234567}), and measures the used
 * heap after full collections between the steps (the least of several readings), each step minus
 * the one before.
 *
 * <p>Run with a fixed heap and a stop-the-world collector so that {@code System.gc()} is a full,
 * compacting collection, for example {@code java -Xmx4g -XX:+UseSerialGC -cp
 * holdfast-bench/target/benchmarks.jar io.holdfast.bench.HeapFootprint}; {@code --histogram}
 * also prints the largest classes on the heap at the end. {@code --lease-millis L} gives the held
 * locks a lease timeout, and {@code --renewals R} then renews every lock R times, a third of the
 * lease apart, as the client's watchdog would (the timer queue keeps the superseded deadlines
 * until they pass). {@code --client-names C} gives the sessions C different client names, as a
 * fleet of a few programs has (by default each has its own); each is a fresh string, as decoding
 * makes them. It also measures the leader's heartbeat memory of the sessions ({@link
 * SessionTracker}, three heartbeats each).
 */
public final class HeapFootprint {
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private HeapFootprint() {}

    public static void main(String[] args) throws Exception {
        int sessions = 100_000;
        int locksPerSession = 10;
        long leaseMillis = 0;
        int renewals = 0;
        int clientNames = 0;
        boolean histogram = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sessions" -> sessions = Integer.parseInt(args[++i]);
                case "--locks-per-session" -> locksPerSession = Integer.parseInt(args[++i]);
                case "--lease-millis" -> leaseMillis = Long.parseLong(args[++i]);
                case "--renewals" -> renewals = Integer.parseInt(args[++i]);
                case "--client-names" -> clientNames = Integer.parseInt(args[++i]);
                case "--histogram" -> histogram = true;
                default ->
                    throw new IllegalArgumentException("usage: HeapFootprint [--sessions N]"
                            + " [--locks-per-session K] [--lease-millis L [--renewals R]] [--client-names C]"
                            + " [--histogram]");
            }
        }
        if (renewals > 0 && leaseMillis == 0) {
            throw new IllegalArgumentException("--renewals needs --lease-millis");
        }
        long locks = (long) sessions * locksPerSession;
        System.out.printf(
                Locale.ROOT,
                "JVM: %s %s, max heap %d MiB, %s%n",
                System.getProperty("java.vm.name"),
                System.getProperty("java.vm.version"),
                Runtime.getRuntime().maxMemory() >> 20,
                ManagementFactory.getRuntimeMXBean().getInputArguments());

        Population population = new Population(sessions, locksPerSession, leaseMillis).clientNames(clientNames);
        long base = usedAfterGc();
        LockTable table = new LockTable();
        population.openSessions(table);
        long opened = usedAfterGc();
        population.touchSessions(table);
        long touched = usedAfterGc();
        long held = population.acquireAll(table);
        // A watchdog renews each lease a third of the way into it; the table's clock moves with it.
        for (int r = 1; r <= renewals; r++) {
            population.renewAll(table, Population.TIME + r * (leaseMillis / 3));
        }
        long full = usedAfterGc();
        // The leader's heartbeat memory of the same sessions, three heartbeats each.
        SessionTracker tracker = new SessionTracker();
        population.track(tracker, 3);
        long tracked = usedAfterGc();
        if (held != locks || table.sessionCount() != sessions || table.resourceCount() != locks) {
            throw new IllegalStateException("table has " + table.sessionCount() + " sessions and "
                    + table.resourceCount() + " locks, expected " + sessions + " and " + locks);
        }

        // The name strings alone, built the same way, in an array whose own size is measured first.
        String[] names = new String[(int) locks];
        long arrayOnly = usedAfterGc();
        for (int i = 0; i < names.length; i++) {
            names[i] = Population.lockName(i);
        }
        long withNames = usedAfterGc();
        Reference.reachabilityFence(names);

        double perSessionIdle = (opened - base) / (double) sessions;
        double perSessionActive = (touched - base) / (double) sessions;
        double perLock = (full - touched) / (double) locks;
        double perName = (withNames - arrayOnly) / (double) locks;
        System.out.printf(
                Locale.ROOT,
                "sessions: %,d   client names: %s   held locks: %,d   lease timeout: %s   renewals per lock: %d%n",
                sessions,
                clientNames == 0 ? "one each" : String.format(Locale.ROOT, "%,d", clientNames),
                locks,
                leaseMillis == 0 ? "none" : leaseMillis + " ms",
                renewals);
        System.out.printf(Locale.ROOT, "used heap: baseline %,d B, whole table %,d B%n", base, full - base);
        System.out.printf(Locale.ROOT, "per session, just opened:              %8.1f B%n", perSessionIdle);
        System.out.printf(Locale.ROOT, "per session, with its remembered reply: %8.1f B%n", perSessionActive);
        System.out.printf(
                Locale.ROOT,
                "per session, the leader's heartbeat tracker: %8.1f B%n",
                (tracked - full) / (double) sessions);
        System.out.printf(Locale.ROOT, "per held lock, name included:           %8.1f B%n", perLock);
        System.out.printf(
                Locale.ROOT,
                "  of which the name string (%s):  %8.1f B (%.0f%%)%n",
                Population.lockName(0),
                perName,
                100 * perName / perLock);
        System.out.printf(
                Locale.ROOT, "whole table per held lock (sessions included): %.1f B%n", (full - base) / (double) locks);

        if (histogram) {
            names = null;
            System.out.println();
            System.out.println("Largest classes on the heap (GC.class_histogram), table still live:");
            String text = (String) ManagementFactory.getPlatformMBeanServer()
                    .invoke(
                            new ObjectName("com.sun.management:type=DiagnosticCommand"),
                            "gcClassHistogram",
                            new Object[] {new String[0]},
                            new String[] {String[].class.getName()});
            text.lines().limit(22).forEach(System.out::println);
        }
        Reference.reachabilityFence(table);
        Reference.reachabilityFence(tracker);
        Reference.reachabilityFence(population);
    }

    /** Used heap after full collections: the least of five readings. */
    static long usedAfterGc() throws InterruptedException {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
            least = Math.min(least, MEMORY.getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
