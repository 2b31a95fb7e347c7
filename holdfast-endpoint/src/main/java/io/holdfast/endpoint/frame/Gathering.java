package io.holdfast.endpoint.frame;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Requests that one thread hands on inside a {@link FrameWrites} batch, gathered and handed on
 * together at its end: the frame server's thread handles what one wake-up read (every frame of
 * each connection's read) in such a batch, so the requests that arrived together leave together,
 * in one log entry or one forwarded call, not the first alone and the rest after it.
 *
 * <p>Guarantees: each item {@link #add}ed inside a batch is handed to {@code sendAll} exactly once,
 * at the batch's end (after the batch's own work, before its writes), in the order added on that
 * thread, with the others the thread added in that batch; outside a batch an item goes alone, at
 * once. Each thread gathers its own.
 *
 * <p>Not guaranteed: any order between threads. Work inside a batch must not wait for what it
 * gathered: it leaves only when the batch ends.
 *
 * <p>A failure story: {@code sendAll} throws at a batch's end. The batch's other deferred work and
 * its writes still run, and the exception reaches the batch's caller (the frame server's loop logs
 * it); the items it was given are the sender's to fail, so a sender answers each item's failure
 * itself rather than throw.
 *
 * @param <T> an item
 */
public final class Gathering<T> {
    private final ThreadLocal<List<T>> gathered = new ThreadLocal<>();
    private final Consumer<List<T>> sendAll;

    /** @param sendAll hands on items together, in order (a list of one outside a batch) */
    public Gathering(Consumer<List<T>> sendAll) {
        this.sendAll = sendAll;
    }

    /** Gathers {@code item} until this thread's batch ends, or hands it on alone now outside one. */
    public void add(T item) {
        List<T> mine = gathered.get();
        if (mine != null) {
            mine.add(item);
            return;
        }
        List<T> first = new ArrayList<>();
        first.add(item);
        if (FrameWrites.defer(() -> {
            gathered.remove();
            sendAll.accept(first);
        })) {
            gathered.set(first);
        } else {
            sendAll.accept(first);
        }
    }
}
