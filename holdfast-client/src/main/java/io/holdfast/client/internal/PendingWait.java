package io.holdfast.client.internal;

import io.holdfast.Lease;
import io.holdfast.LockTimeoutException;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.protocol.SpanName;
import io.opentelemetry.api.trace.Span;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One acquire in flight, from the moment it is sent until it is granted, refused, timed out or
 * cancelled. It settles exactly once; a grant that arrives after it settled otherwise is released,
 * so a lease nobody will use never lingers.
 *
 * <p>A multi-lock's wait is one of these for all its names: it is granted when the grant of every
 * name is known (one reply with every token, or one event per name), and its caller gets the
 * leases as one value ({@code T} is {@link Lease} for one name, a list of leases for a multi-lock).
 */
final class PendingWait<T> {
    private final Waits waits;
    final long seq;
    /**
     * What the handles asked for, by reference, in the order the service grants them (one for a
     * lock or semaphore, one per name for a multi-lock); the first names the wait in messages.
     */
    final List<LeaseRequest> requests;

    final long leaseMillis;
    /**
     * Whether the caller asked to try once ({@code tryAcquire}): then "busy" is an answer, an empty
     * result. Any other wait that ends without a grant ends with a {@link LockTimeoutException},
     * even a wait of zero, which the service answers as a try.
     */
    final boolean tryOnly;
    /** On the client's ticker, before the acquire was sent: a moment known to precede any grant. */
    final long startedNanos;

    final CompletableFuture<T> future = new CompletableFuture<>();
    /** The acquire as sent, to re-send for its outcome. */
    volatile io.holdfast.model.Command command;

    private final java.util.function.Function<List<RuntimeLease>, T> shape;
    /**
     * Whether {@link #future} was given to a caller of the async API. Only then is it completed on
     * a callback thread, where the caller's continuations may block; a blocking acquire is woken by
     * the thread that learnt the outcome, one hand-off fewer.
     */
    private volatile boolean forCaller;

    /** The acquire was sent again (a retry, an ask for its outcome): a grant it answers is late. */
    private volatile boolean sentAgain;

    private boolean settled;
    private List<Long> grantedTokens = List.of();
    /** Tokens told by events so far, by the index of their name (a multi-lock's grant). */
    private long[] toldTokens;
    /** The timer that asks for the outcome if no event comes; cancelled when the wait settles. */
    private java.util.concurrent.ScheduledFuture<?> backstop;

    /** The acquire's span ({@code holdfast.acquire}), ended when the wait settles. */
    final Span span;
    /** Its time in the queue ({@code holdfast.acquire.queued}): from the "queued" reply until the wait settles. */
    private Span queued = Span.getInvalid();

    /**
     * @param shape the caller's value from the leases of the grant, one per name in order
     * @param span the acquire's span, ended when the wait settles
     */
    PendingWait(
            Waits waits,
            long seq,
            List<LeaseRequest> requests,
            long leaseMillis,
            boolean tryOnly,
            java.util.function.Function<List<RuntimeLease>, T> shape,
            Span span) {
        this.waits = waits;
        this.span = span;
        this.tryOnly = tryOnly;
        this.seq = seq;
        this.requests = List.copyOf(requests);
        this.shape = shape;
        this.leaseMillis = leaseMillis;
        this.startedNanos = waits.options().ticker().nanos();
        future.whenComplete((lease, error) -> {
            if (error instanceof CancellationException && settle(true)) {
                endSpans(error);
                waits.withdraw(this); // the caller cancelled the future: take the wait off the queue
            }
        });
    }

    /** The name that names the wait in messages: the first. */
    String name() {
        return requests.get(0).name();
    }

    /** The names, in the order the service grants them. */
    List<String> names() {
        return requests.stream().map(LeaseRequest::name).toList();
    }

    private int indexOf(String name) {
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** The future for a caller of the async API: completed on a callback thread. */
    CompletableFuture<T> forCaller() {
        forCaller = true;
        return future;
    }

    private void complete(Runnable completion) {
        if (forCaller) {
            waits.threads().runCallback(completion);
        } else {
            completion.run();
        }
    }

    synchronized boolean isSettled() {
        return settled;
    }

    private boolean settle() {
        return settle(false);
    }

    /** @param withdrawing the wait's outcome may be unknown, and it will be withdrawn */
    private synchronized boolean settle(boolean withdrawing) {
        if (settled) {
            return false;
        }
        settled = true;
        if (backstop != null) {
            backstop.cancel(false);
            backstop = null;
        }
        waits.settled(this, withdrawing);
        return true;
    }

    /** The service queued the acquire: its time in the queue starts (a span, if the acquire's records). */
    void queued(ClientTracing tracing) {
        if (!span.isRecording()) {
            return;
        }
        synchronized (this) {
            if (!settled && !queued.isRecording()) {
                queued = tracing.child(span, SpanName.ACQUIRE_QUEUED.text());
            }
        }
    }

    /** Ends the spans of a wait that has just settled, as failed if {@code error} is not null. */
    private void endSpans(Throwable error) {
        if (!span.isRecording()) {
            return;
        }
        Span inQueue;
        synchronized (this) {
            inQueue = queued;
        }
        ClientTracing.end(inQueue, error);
        ClientTracing.end(span, error);
    }

    /** Keeps the backstop timer of a queued wait, to cancel it when the wait settles. */
    void backstop(java.util.concurrent.ScheduledFuture<?> timer) {
        synchronized (this) {
            if (!settled) {
                backstop = timer;
                return;
            }
        }
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /**
     * The acquire is about to be sent again. A grant its answer reports may be the table's memory
     * of one made a while ago, and lost since with events this client has not had: it is late.
     */
    void sendingAgain() {
        sentAgain = true;
    }

    /** The grant of every name, told by a reply: the tokens in the order of the names. */
    void grant(List<Long> tokens) {
        grant(tokens, sentAgain);
    }

    /** @param late the grant is confirmed with the service before it is handed out ({@link RuntimeLease#confirmed()}) */
    private void grant(List<Long> tokens, boolean late) {
        synchronized (this) {
            if (settled && grantedTokens.equals(tokens)) {
                return; // the same grant reported twice (reply and event)
            }
            if (!settled) {
                grantedTokens = List.copyOf(tokens);
            }
        }
        if (!settle()) {
            for (int i = 0; i < requests.size(); i++) {
                waits.leases()
                        .giveBack(requests.get(i).name(), tokens.get(i)); // granted after we gave up: give it back
            }
            return;
        }
        span.setAttribute("holdfast.fencing_token", tokens.get(0));
        List<RuntimeLease> leases = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            leases.add(waits.leases().newLease(requests.get(i), tokens.get(i), leaseMillis, startedNanos, late));
        }
        T value = shape.apply(leases);
        boolean confirmedAll = true;
        for (RuntimeLease lease : leases) {
            confirmedAll &= lease.confirmed().isDone() && !lease.confirmed().isCompletedExceptionally();
        }
        if (confirmedAll) {
            handOut(value, leases, null); // the usual case: nothing to wait for
            return;
        }
        // A late grant is handed out only once the service confirmed it (it may have timed out or
        // been revoked before it got here); one that did not survive is given back and the caller
        // told why.
        CompletableFuture.allOf(leases.stream().map(RuntimeLease::confirmed).toArray(CompletableFuture[]::new))
                .whenComplete(
                        (confirmed, error) -> handOut(value, leases, error == null ? null : Replies.unwrap(error)));
    }

    /** Completes the caller's future with the grant, or with {@code cause}; gives the leases back if not taken. */
    private void handOut(T value, List<RuntimeLease> leases, Throwable cause) {
        endSpans(cause);
        complete(() -> {
            if (cause != null) {
                future.completeExceptionally(cause);
            }
            if (cause != null || !future.complete(value)) {
                for (RuntimeLease lease : leases) {
                    lease.releaseQuietly();
                }
            }
        });
    }

    void grant(long token) {
        grant(List.of(token));
    }

    /**
     * The grant of one name, told by an event. A multi-lock's grant is complete when every name's
     * event has come (they come together, in name order); one that comes after the wait settled
     * otherwise is given back, unless it is part of the grant already taken.
     */
    void granted(String grantedName, long token) {
        int index = indexOf(grantedName);
        List<Long> all = null;
        synchronized (this) {
            if (settled && grantedTokens.contains(token)) {
                return;
            }
            if (!settled && index >= 0) {
                if (toldTokens == null) {
                    toldTokens = new long[requests.size()];
                }
                toldTokens[index] = token;
                all = new ArrayList<>(requests.size());
                for (long t : toldTokens) {
                    if (t == 0) {
                        return; // more to come
                    }
                    all.add(t);
                }
            }
        }
        if (all != null) {
            grant(all, false); // an event: any loss of it comes after it, on the same stream
        } else {
            waits.leases().giveBack(grantedName, token);
        }
    }

    /**
     * The service found the lock busy and did not queue the request: an empty result for a try, a
     * {@link LockTimeoutException} for a wait (one of zero, or one whose time ran out before the
     * service saw it), never a null lease.
     */
    void busy() {
        if (!settle()) {
            return;
        }
        if (tryOnly) {
            endSpans(null);
            complete(() -> future.complete(null));
        } else {
            LockTimeoutException timeout = new LockTimeoutException(
                    String.join(", ", names()) + (requests.size() == 1 ? " is" : " are") + " not free");
            endSpans(timeout);
            complete(() -> future.completeExceptionally(timeout));
        }
    }

    void fail(Throwable cause) {
        if (settle()) {
            endSpans(cause);
            complete(() -> future.completeExceptionally(cause));
        }
    }

    /**
     * Gives up on the wait with this failure and withdraws it from the queue: for every end whose
     * outcome the service has not told (no answer, a lost reply, the caller's own cancellation).
     * A grant made meanwhile is given back.
     */
    void cancel(Throwable cause) {
        if (settle(true)) {
            endSpans(cause);
            waits.withdraw(this);
            complete(() -> future.completeExceptionally(cause));
        }
    }

    /** Blocks for the outcome; on interrupt the wait is withdrawn from the queue before returning. */
    T await() throws InterruptedException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            abandon();
            throw e;
        } catch (ExecutionException e) {
            throw Replies.rethrow(Replies.unwrap(e));
        }
    }

    /**
     * Blocks for the outcome of a try, which the service answers at once, without reacting to
     * interrupts. Bounded by the retry policy, so that a lost answer cannot block the caller
     * forever.
     */
    T awaitUninterruptibly() {
        long bound = waits.options().retryPolicy().maxElapsed().toMillis()
                + 2 * waits.options().requestTimeout().toMillis();
        boolean interrupted = false;
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(bound);
            while (true) {
                try {
                    return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw Replies.rethrow(Replies.unwrap(e));
                } catch (TimeoutException e) {
                    cancel(new io.holdfast.UnavailableException("no answer to the try within " + bound + " ms"));
                    return Replies.join(future);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void abandon() {
        if (settle(true)) {
            endSpans(new InterruptedException("the waiting thread was interrupted"));
            try {
                waits.withdraw(this).get(waits.options().requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException again) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // not answered yet: the withdrawal goes on in the background
            }
            future.cancel(false);
        } else if (!future.cancel(false) && !future.isCompletedExceptionally()) {
            T value = future.getNow(null);
            List<?> leases = value instanceof List<?> list ? list : java.util.Collections.singletonList(value);
            for (Object lease : leases) {
                if (lease instanceof RuntimeLease rl) {
                    rl.releaseQuietly();
                }
            }
        }
    }
}
