package io.holdfast.bench.population;

import java.io.PrintStream;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * Each connection's story around a leader's kill, for the worker's log: where its home went and when, when its
 * first heartbeat after the kill was acknowledged, how many failed and with which errors, and how many of its
 * sessions ended. It says why sessions were lost where {@link KillWatch}'s figures only say how many.
 *
 * <p>Guaranteed: the moves it reports are those seen by a sample every {@value #SAMPLE_MILLIS} ms (a home that
 * moved and came back between two samples shows as no move, but the connection's move count still grew), and at
 * most {@value #REASONS} distinct failure messages per connection are kept. Not guaranteed: anything outside the
 * window between {@link #start} and {@link #print}. Thread-safe: heartbeats report from the transports' threads.
 */
final class KillTimeline {
    static final long SAMPLE_MILLIS = 50;
    static final int REASONS = 4;

    /** One connection's heartbeats since the kill. */
    private static final class Beats {
        final AtomicLong acks = new AtomicLong();
        final AtomicLong fails = new AtomicLong();
        volatile long firstAck = -1;
        volatile long firstSent = -1;
        /** The longest a heartbeat acknowledged since the kill's mark waited, from its sending (maybe before it). */
        final AtomicLong longestWait = new AtomicLong(-1);

        volatile long firstFail = -1;
        final Map<String, AtomicLong> reasons = new ConcurrentHashMap<>();
        final List<String> moves = new ArrayList<>(); // guarded by itself
        String home;
    }

    private final Map<Integer, Beats> connections = new ConcurrentHashMap<>();
    private volatile long from = Long.MAX_VALUE;
    /** The kill's mark on the wall clock, to line the timeline up with the members' logs. */
    private volatile Instant fromWall = Instant.EPOCH;

    private ScheduledFuture<?> sampler;

    /** Starts the window now: forgets the last one, and samples every connection's home until {@link #print}. */
    synchronized void start(int count, IntFunction<String> home, ScheduledExecutorService timers) {
        connections.clear();
        for (int c = 0; c < count; c++) {
            Beats b = new Beats();
            b.home = home.apply(c);
            connections.put(c, b);
        }
        from = System.nanoTime();
        fromWall = Instant.now();
        sampler = timers.scheduleAtFixedRate(
                () -> {
                    for (Map.Entry<Integer, Beats> e : connections.entrySet()) {
                        String now = home.apply(e.getKey());
                        Beats b = e.getValue();
                        synchronized (b.moves) {
                            if (!now.equals(b.home)) {
                                b.moves.add(since() + " to " + now);
                                b.home = now;
                            }
                        }
                    }
                },
                SAMPLE_MILLIS,
                SAMPLE_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** A heartbeat leaves now on connection {@code c}. */
    void sent(int c) {
        Beats b = connections.get(c);
        long now = System.nanoTime();
        if (b != null && now >= from && b.firstSent < 0) {
            b.firstSent = now - from;
        }
    }

    /** A heartbeat on connection {@code c}, sent at {@code sentNanos}, was acknowledged now. */
    void acknowledged(int c, long sentNanos) {
        Beats b = connections.get(c);
        long now = System.nanoTime();
        if (b != null && now >= from) {
            if (b.acks.getAndIncrement() == 0) {
                b.firstAck = now - from;
            }
            b.longestWait.accumulateAndGet(now - sentNanos, Math::max);
        }
    }

    /** A heartbeat on connection {@code c} failed now (an error, or a reply that is not an acknowledgement). */
    void failed(int c, Object why) {
        Beats b = connections.get(c);
        if (b != null && System.nanoTime() >= from) {
            if (b.fails.getAndIncrement() == 0) {
                b.firstFail = System.nanoTime() - from;
            }
            String reason = String.valueOf(why);
            if (reason.length() > 160) {
                reason = reason.substring(0, 160);
            }
            if (b.reasons.size() < REASONS || b.reasons.containsKey(reason)) {
                b.reasons.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
            }
        }
    }

    /**
     * Stops sampling and prints one line per connection that was homed on {@code killed} or moved: its home at the
     * kill, sessions and how many ended, its moves, first acknowledgement and failures.
     */
    synchronized void print(
            PrintStream out,
            String killed,
            List<String> homesAtKill,
            ToIntFunction<Integer> sessions,
            ToIntFunction<Integer> ended) {
        if (sampler != null) {
            sampler.cancel(false);
        }
        out.println("kill timeline (times from the kill's mark at "
                + DateTimeFormatter.ISO_LOCAL_TIME.format(
                        LocalTime.ofInstant(fromWall, ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS))
                + " UTC; killed " + killed + "):");
        for (int c = 0; c < homesAtKill.size(); c++) {
            Beats b = connections.get(c);
            if (b == null) {
                continue;
            }
            List<String> moves;
            synchronized (b.moves) {
                moves = List.copyOf(b.moves);
            }
            if (!homesAtKill.get(c).equals(killed) && moves.isEmpty()) {
                continue;
            }
            out.printf(
                    "  connection %d home %s sessions %d ended %d; moves %s; first sent %s; first ack %s (%d acks,"
                            + " the longest waited %s); first failure %s (%d failures) %s%n",
                    c,
                    homesAtKill.get(c),
                    sessions.applyAsInt(c),
                    ended.applyAsInt(c),
                    moves,
                    seconds(b.firstSent),
                    seconds(b.firstAck),
                    b.acks.get(),
                    String.format("%.2fs", b.longestWait.get() / 1e9),
                    seconds(b.firstFail),
                    b.fails.get(),
                    b.reasons);
        }
        out.flush();
    }

    private String since() {
        return seconds(System.nanoTime() - from);
    }

    private static String seconds(long nanos) {
        return nanos < 0 ? "none" : String.format("+%.2fs", nanos / 1e9);
    }
}
