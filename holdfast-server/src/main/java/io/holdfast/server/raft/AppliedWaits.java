package io.holdfast.server.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Waits for this replica to apply the log up to an index: what a member does before it answers a
 * write it forwarded or a read it served through the leader's read index (ADR 0003), so that its
 * client sees there what the leader answered.
 *
 * <p><b>Guarantees.</b> {@link #reached} completes once the state machine's applied index is at or
 * past the index asked for, whether the entries were commands, Ratis's own entries (a new term's
 * first entry, a configuration) or a snapshot; it completes on the executor given, never on the
 * apply thread. An index already reached completes at once.
 *
 * <p><b>Does not</b> time out: a replica that stops applying leaves its waits open, and the caller
 * bounds them (its client's deadline). {@link #close} fails what waits.
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
        if (due != null) {
            for (Wait w : due) {
                try {
                    w.executor().execute(() -> w.done().complete(null));
                } catch (RuntimeException e) {
                    w.done().completeExceptionally(e); // the executor was shut down
                }
            }
        }
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
