package io.holdfast.server.raft;

import io.holdfast.endpoint.frame.FrameWrites;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Waits for this replica to apply the log up to an index: what a member does before it answers a
 * write it forwarded or a read it served through the leader's read index (ADR 0003), so that its
 * client sees there what the leader answered.
 *
 * <p><b>Guarantees.</b> {@link #reached} completes once the state machine's applied index is at or
 * past the index asked for, whether the entries were commands, Ratis's own entries (a new term's
 * first entry, a configuration) or a snapshot; it completes on the executor given, never on the
 * apply thread. An index already reached completes at once. The waits one index releases complete
 * in one task per executor, inside {@link FrameWrites#together}: the answers they let go leave in
 * one write per client connection.
 *
 * <p>{@link #within} bounds a wait: a replica still behind the index when the bound passes fails
 * it with {@link io.holdfast.UnavailableException} naming both indexes, so that the client asks
 * another member at once rather than when its own deadline passes (10 s by default: a member just
 * restarted, catching up on a loaded machine, held a client's reads that long).
 *
 * <p><b>Does not</b> time out a wait of {@link #reached}: a replica that stops applying leaves it
 * open, and the caller bounds it. {@link #close} fails what waits.
 */
public final class AppliedWaits {
    private record Wait(CompletableFuture<Void> done, Executor executor) {}

    private final TreeMap<Long, List<Wait>> waiting = new TreeMap<>();
    private long applied = -1;
    private boolean closed;

    /** Completes when this replica has applied index {@code index}, on {@code executor}. */
    public CompletableFuture<Void> reached(long index, Executor executor) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (this) {
            if (closed) {
                done.completeExceptionally(new io.holdfast.UnavailableException("the server is shutting down"));
                return done;
            }
            if (index > applied) {
                waiting.computeIfAbsent(index, k -> new ArrayList<>(1)).add(new Wait(done, executor));
                return done;
            }
        }
        done.complete(null);
        return done;
    }

    /**
     * As {@link #reached}, but failed with {@link io.holdfast.UnavailableException} if this replica
     * has not applied {@code index} within {@code boundMillis} on {@code timer}; the failure, like
     * the completion, comes on {@code executor}, and a wait that failed is forgotten.
     *
     * @param who names this member in the failure's message ("member n2")
     */
    public CompletableFuture<Void> within(
            long index, Executor executor, ScheduledExecutorService timer, long boundMillis, String who) {
        CompletableFuture<Void> done = reached(index, executor);
        if (done.isDone()) {
            return done;
        }
        ScheduledFuture<?> bound;
        try {
            bound = timer.schedule(
                    () -> giveUp(index, done, executor, boundMillis, who), boundMillis, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            return done; // the timer was shut down: the server is closing, which fails the wait
        }
        done.whenComplete((v, e) -> bound.cancel(false));
        return done;
    }

    private void giveUp(long index, CompletableFuture<Void> done, Executor executor, long boundMillis, String who) {
        long now;
        synchronized (this) {
            List<Wait> at = waiting.get(index);
            if (at == null || !at.removeIf(w -> w.done() == done)) {
                return; // reached meanwhile (or closed)
            }
            if (at.isEmpty()) {
                waiting.remove(index);
            }
            now = applied;
        }
        io.holdfast.UnavailableException behind = new io.holdfast.UnavailableException(who
                + " is behind its leader: it has applied up to index " + now + ", and the answer needs " + index
                + " (waited " + boundMillis + " ms); ask another member");
        try {
            executor.execute(() -> done.completeExceptionally(behind));
        } catch (RuntimeException e) {
            done.completeExceptionally(behind); // the executor was shut down
        }
    }

    /** The state machine applied up to {@code index} (called on the apply thread). */
    void applied(long index) {
        List<Wait> due = null;
        synchronized (this) {
            if (index <= applied) {
                return;
            }
            applied = index;
            while (!waiting.isEmpty() && waiting.firstKey() <= index) {
                Map.Entry<Long, List<Wait>> first = waiting.pollFirstEntry();
                due = due == null ? new ArrayList<>() : due;
                due.addAll(first.getValue());
            }
        }
        if (due == null) {
            return;
        }
        // One task per executor for what this index released, completed together, so that the
        // answers they let go leave in one write per client connection (FrameWrites).
        Map<Executor, List<Wait>> byExecutor = new LinkedHashMap<>();
        for (Wait w : due) {
            byExecutor.computeIfAbsent(w.executor(), e -> new ArrayList<>()).add(w);
        }
        byExecutor.forEach((executor, waits) -> {
            try {
                executor.execute(() -> FrameWrites.together(() -> {
                    for (Wait w : waits) {
                        w.done().complete(null);
                    }
                }));
            } catch (RuntimeException e) {
                for (Wait w : waits) {
                    w.done().completeExceptionally(e); // the executor was shut down
                }
            }
        });
    }

    /** Fails every wait: the server is shutting down. */
    public void close() {
        List<Wait> all = new ArrayList<>();
        synchronized (this) {
            closed = true;
            waiting.values().forEach(all::addAll);
            waiting.clear();
        }
        all.forEach(w ->
                w.done().completeExceptionally(new io.holdfast.UnavailableException("the server is shutting down")));
    }
}
