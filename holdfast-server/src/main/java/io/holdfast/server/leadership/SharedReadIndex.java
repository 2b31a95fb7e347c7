package io.holdfast.server.leadership;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The read indexes a member that does not lead asks of the leader, shared: while one request is in
 * flight, the reads that arrive wait together for the next, sent once it ends; a member asks one
 * at a time however many reads its clients send (etcd's read loop does the same).
 *
 * <p><b>Guarantees.</b> A read is given the answer of a request sent after the read arrived, never
 * of one already in flight: the leader's answer then holds every write acknowledged before the
 * read, which is what makes it linearizable. A read that arrives when none is in flight sends one
 * at once, so a lone read waits for no one. A request that fails fails every read that waited for
 * it, with its failure; the next read sends a new one.
 *
 * <p><b>Does not</b> time a request out or retry it: the link it asks on does ({@link
 * LeaderLink}), and the reads' clients ask again.
 *
 * <p><b>Failure story.</b> Ten thousand clients whose member died move here at once and check
 * their leases: their reads wait for at most two read indexes at a time, one in flight and one
 * gathering, instead of filling the link to the leader that forwarded writes share with them.
 *
 * @param <A> the leader's answer
 */
final class SharedReadIndex<A> {
    private final Supplier<CompletableFuture<A>> ask;
    /** The request in flight, or null; guarded by this. */
    private CompletableFuture<A> inFlight;
    /** The answer the reads that arrived during {@link #inFlight} wait for, or null; guarded by this. */
    private CompletableFuture<A> next;

    /** @param ask sends one read-index request to the leader */
    SharedReadIndex(Supplier<CompletableFuture<A>> ask) {
        this.ask = ask;
    }

    /** A read index asked for after this call: a request sent now, or the next one. */
    CompletableFuture<A> get() {
        CompletableFuture<A> mine;
        synchronized (this) {
            if (inFlight != null) {
                if (next == null) {
                    next = new CompletableFuture<>();
                }
                return next;
            }
            mine = new CompletableFuture<>();
            inFlight = mine;
        }
        send(mine);
        return mine;
    }

    /** Sends the request whose answer {@code answer} is, and the next one after it. */
    private void send(CompletableFuture<A> answer) {
        CompletableFuture<A> sent;
        try {
            sent = ask.get();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((a, e) -> {
            CompletableFuture<A> following;
            synchronized (this) {
                following = next;
                next = null;
                inFlight = following;
            }
            if (e != null) {
                answer.completeExceptionally(e);
            } else {
                answer.complete(a);
            }
            if (following != null) {
                send(following);
            }
        });
    }
}
