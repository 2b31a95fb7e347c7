package io.holdfast.internal;

import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * Requests of one kind sent together: at most {@code maxInFlight} calls are in flight, and the
 * requests asked for meanwhile wait and go in the next call, up to {@code maxPerCall} requests and
 * {@code maxBytesPerCall} bytes in one. A request asked for while fewer calls are in flight goes at
 * once, so a lone request waits for nothing; under load, requests gather by themselves (a group
 * commit, with no timer).
 *
 * <p><b>Guarantees.</b>
 *
 * <ul>
 *   <li>Each request is answered as the batched call answers it, in the order it was in the call;
 *       or fails with its call's failure (a call fails as a whole: nothing is known of its
 *       requests). Requests are sent in the order asked.
 *   <li>Never more than {@code maxInFlight} calls in flight. A request larger than {@code
 *       maxBytesPerCall} goes alone.
 *   <li>A receiver that does not know the batched call ({@code unknownCall} says so of the call's
 *       failure: an older build) is sent the requests one call each, still at most {@code
 *       maxInFlight} at a time, for {@code singlesFor}; then the batched call is tried again (a
 *       rolling upgrade may have reached it). The requests of the refused call go first.
 * </ul>
 *
 * <p><b>Does not</b> decide where a call goes, its deadline or its retries: the sender does.
 * Thread-safe.
 *
 * <p><b>Failure story.</b> The receiver dies while 50,000 requests wait: the calls in flight fail,
 * their requests fail, and the waiting ones go in the next calls, which the sender sends wherever it
 * goes next.
 *
 * @param <Q> a request
 * @param <A> its answer
 */
public final class CallBatches<Q, A> {
    /** How requests are sent: together, or one alone. */
    public interface Sender<Q, A> {
        /** One answer per request, in order; fails as a whole when the receiver could not answer. */
        CompletableFuture<List<A>> many(List<Q> requests);

        CompletableFuture<A> one(Q request);
    }

    /** The limits of one engine. */
    public record Limits(int maxInFlight, int maxPerCall, long maxBytesPerCall, long singlesForNanos) {
        public Limits {
            if (maxInFlight < 1 || maxPerCall < 1 || maxBytesPerCall < 1 || singlesForNanos < 0) {
                throw new IllegalArgumentException("limits must be positive: " + maxInFlight + ", " + maxPerCall + ", "
                        + maxBytesPerCall + ", " + singlesForNanos);
            }
        }
    }

    private record Pending<Q, A>(Q request, CompletableFuture<A> answer) {}

    private final Sender<Q, A> sender;
    private final Limits limits;
    private final ToIntFunction<Q> size;
    private final Predicate<Throwable> unknownCall;
    private final Executor executor;
    private final Ticker ticker;

    private final ArrayDeque<Pending<Q, A>> waiting = new ArrayDeque<>(); // guarded by this
    private int inFlight; // guarded by this
    private boolean singles; // guarded by this
    private long singlesUntil; // guarded by this; meaningful while singles

    /**
     * @param size a request's bytes, counted against {@code maxBytesPerCall}
     * @param unknownCall whether a call's failure says the receiver does not know the batched call
     * @param executor where a call that ends sends the next (not the thread that completed it)
     * @param ticker the clock of the singles' window
     */
    public CallBatches(
            Sender<Q, A> sender,
            Limits limits,
            ToIntFunction<Q> size,
            Predicate<Throwable> unknownCall,
            Executor executor,
            Ticker ticker) {
        this.sender = sender;
        this.limits = limits;
        this.size = size;
        this.unknownCall = unknownCall;
        this.executor = executor;
        this.ticker = ticker;
    }

    /** The answer to {@code request}, asked with the others waiting. */
    public CompletableFuture<A> ask(Q request) {
        Pending<Q, A> p = new Pending<>(request, new CompletableFuture<>());
        List<Pending<Q, A>> now;
        synchronized (this) {
            waiting.add(p);
            now = next();
        }
        send(now);
        return p.answer();
    }

    /** Every request, with the others waiting: one answer each, in order; fails if any failed. */
    public CompletableFuture<List<A>> askAll(List<Q> requests) {
        List<CompletableFuture<A>> each = askEach(requests);
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<A> answers = new ArrayList<>(each.size());
            each.forEach(f -> answers.add(f.join()));
            return answers;
        });
    }

    /**
     * Every request, in order, with the others waiting, as {@link #ask} each would but queued at
     * once: requests asked together share calls. One answer per request, in the same order.
     */
    public List<CompletableFuture<A>> askEach(List<Q> requests) {
        List<CompletableFuture<A>> each = new ArrayList<>(requests.size());
        List<List<Pending<Q, A>>> calls = new ArrayList<>();
        synchronized (this) {
            for (Q q : requests) {
                Pending<Q, A> p = new Pending<>(q, new CompletableFuture<>());
                each.add(p.answer());
                waiting.add(p);
            }
            for (List<Pending<Q, A>> call = next(); call != null; call = next()) {
                calls.add(call);
            }
        }
        calls.forEach(this::send);
        return each;
    }

    /** The next call's requests, counted in flight, if a call may start and requests wait; else null. */
    private List<Pending<Q, A>> next() {
        if (waiting.isEmpty() || inFlight >= limits.maxInFlight()) {
            return null;
        }
        if (singles && ticker.nanos() - singlesUntil >= 0) {
            singles = false;
        }
        List<Pending<Q, A>> call = new ArrayList<>();
        long bytes = 0;
        while (!waiting.isEmpty() && call.size() < (singles ? 1 : limits.maxPerCall())) {
            long more = size.applyAsInt(waiting.peek().request());
            if (!call.isEmpty() && bytes + more > limits.maxBytesPerCall()) {
                break;
            }
            call.add(waiting.poll());
            bytes += more;
        }
        inFlight++;
        return call;
    }

    private void send(List<Pending<Q, A>> call) {
        if (call == null) {
            return;
        }
        CompletableFuture<List<A>> sent;
        try {
            sent = call.size() == 1
                    ? sender.one(call.get(0).request()).thenApply(List::of)
                    : sender.many(call.stream().map(Pending::request).toList());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((answers, error) -> ended(call, answers, error));
    }

    /** A call ended: its requests are answered (or sent again one by one), and the next call starts. */
    private void ended(List<Pending<Q, A>> call, List<A> answers, Throwable error) {
        boolean unknown = error != null && call.size() > 1 && unknownCall.test(error);
        synchronized (this) {
            inFlight--;
            if (unknown) {
                singles = true;
                singlesUntil = ticker.nanos() + limits.singlesForNanos();
                for (int i = call.size() - 1; i >= 0; i--) {
                    waiting.addFirst(call.get(i)); // sent again, one call each, before the others
                }
            }
        }
        if (!unknown) {
            if (error == null && answers != null && answers.size() == call.size()) {
                for (int i = 0; i < call.size(); i++) {
                    call.get(i).answer().complete(answers.get(i));
                }
            } else {
                Throwable why = error != null
                        ? unwrap(error)
                        : new UnavailableException("the receiver answered " + (answers == null ? 0 : answers.size())
                                + " requests of " + call.size());
                call.forEach(p -> p.answer().completeExceptionally(why));
            }
        }
        try {
            executor.execute(this::drain);
        } catch (RejectedExecutionException closed) {
            List<Pending<Q, A>> left;
            synchronized (this) {
                left = new ArrayList<>(waiting);
                waiting.clear();
            }
            UnavailableException why = new UnavailableException("closed");
            left.forEach(p -> p.answer().completeExceptionally(why));
        }
    }

    /** Starts the calls that may start now. */
    private void drain() {
        List<List<Pending<Q, A>>> calls = new ArrayList<>();
        synchronized (this) {
            for (List<Pending<Q, A>> call = next(); call != null; call = next()) {
                calls.add(call);
            }
        }
        calls.forEach(this::send);
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    /** How many requests wait, unsent (for tests and metrics). */
    public synchronized int waiting() {
        return waiting.size();
    }

    /** Convenience: a window of {@code seconds}, in nanoseconds. */
    public static long seconds(long seconds) {
        return TimeUnit.SECONDS.toNanos(seconds);
    }
}
