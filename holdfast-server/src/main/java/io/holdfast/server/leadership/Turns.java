package io.holdfast.server.leadership;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Asynchronous requests taking turns: at most {@code most} sent and not yet answered; the others
 * wait unsent, in the order asked, and each is sent when an answer frees a place.
 *
 * <p><b>Guarantees.</b> Never more than {@code most} requests in flight; requests are sent in the
 * order asked; a request whose answer was completed (cancelled, given up on) while it waited is
 * never sent; a request that fails as it is sent frees its place at once, and however many do so
 * one after the other, the stack does not grow with them. The answer completes on the thread that
 * completed the request's own future.
 *
 * <p><b>Does not</b> bound how many wait, or time them: the caller does.
 *
 * <p><b>A failure it rules out.</b> A member whose clients send a burst of writes at once: each
 * forwarded try's timeout counts from its sending, so a burst sent at once times out in the
 * leader's queue on a busy machine, and Ratis's client then takes the timeout for a dead leader and
 * tries members at random (seen: every try of a burst of forwarded writes used up in 2 s, while the
 * leader was alive).
 *
 * @param <Q> a request
 * @param <A> its answer
 */
final class Turns<Q, A> {
    private record Asked<Q, A>(Q request, CompletableFuture<A> answer) {}

    private final int most;
    private final Function<Q, CompletableFuture<A>> send;
    private final ArrayDeque<Asked<Q, A>> waiting = new ArrayDeque<>();
    private int inFlight;

    /**
     * @param most how many requests may be in flight at once, at least 1
     * @param send sends a request; its future completes with the answer
     */
    Turns(int most, Function<Q, CompletableFuture<A>> send) {
        if (most < 1) {
            throw new IllegalArgumentException("at least one request must be let in flight: " + most);
        }
        this.most = most;
        this.send = send;
    }

    /** The answer to {@code request}, sent now or when its turn comes. */
    CompletableFuture<A> ask(Q request) {
        Asked<Q, A> asked = new Asked<>(request, new CompletableFuture<>());
        synchronized (this) {
            if (inFlight >= most) {
                waiting.add(asked);
                return asked.answer();
            }
            inFlight++;
        }
        start(asked);
        return asked.answer();
    }

    /** How many requests wait their turn, unsent. */
    synchronized int waiting() {
        return waiting.size();
    }

    /**
     * Sends {@code first}, which holds a place; then, for as long as what it sent was answered at
     * once, the next that waits, in this loop rather than deeper in the stack.
     */
    private void start(Asked<Q, A> first) {
        for (Asked<Q, A> next = first; next != null; next = release()) {
            if (next.answer().isDone()) {
                continue; // given up on while it waited its turn
            }
            Asked<Q, A> current = next;
            CompletableFuture<A> sent;
            try {
                sent = send.apply(current.request());
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            if (!sent.isDone()) {
                sent.whenComplete((answer, failure) -> {
                    complete(current, answer, failure);
                    Asked<Q, A> after = release();
                    if (after != null) {
                        start(after);
                    }
                });
                return;
            }
            sent.whenComplete((answer, failure) -> complete(current, answer, failure));
        }
    }

    private static <Q, A> void complete(Asked<Q, A> asked, A answer, Throwable failure) {
        if (failure != null) {
            asked.answer().completeExceptionally(failure);
        } else {
            asked.answer().complete(answer);
        }
    }

    /** One request answered: the next that waits takes its place, or the place is freed. */
    private synchronized Asked<Q, A> release() {
        Asked<Q, A> next = waiting.poll();
        if (next == null) {
            inFlight--;
        }
        return next;
    }
}
