package io.holdfast.client.internal;

import io.holdfast.Lease;
import io.holdfast.LockMode;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One acquire in flight, from the moment it is sent until it is granted, refused, timed out or
 * cancelled. It settles exactly once; a grant that arrives after it settled otherwise is released,
 * so a lease nobody will use never lingers.
 */
final class PendingWait {
    final ClientRuntime rt;
    final long seq;
    final String name;
    final LockMode mode;
    final int permits;
    final long leaseMillis;
    /** On the client's ticker, before the acquire was sent: a moment known to precede any grant. */
    final long startedNanos;

    final CompletableFuture<Lease> future = new CompletableFuture<>();
    /** The acquire as sent, to re-send for its outcome. */
    volatile io.holdfast.core.Command.Acquire command;
    /**
     * Whether {@link #future} was given to a caller of the async API. Only then is it completed on
     * a callback thread, where the caller's continuations may block; a blocking acquire is woken by
     * the thread that learnt the outcome, one hand-off fewer.
     */
    private volatile boolean forCaller;

    private boolean settled;
    private long grantedToken;
    /** The timer that asks for the outcome if no event comes; cancelled when the wait settles. */
    private java.util.concurrent.ScheduledFuture<?> backstop;

    PendingWait(ClientRuntime rt, long seq, String name, LockMode mode, int permits, long leaseMillis) {
        this.rt = rt;
        this.seq = seq;
        this.name = name;
        this.mode = mode;
        this.permits = permits;
        this.leaseMillis = leaseMillis;
        this.startedNanos = rt.options().ticker().nanos();
        future.whenComplete((lease, error) -> {
            if (error instanceof CancellationException && settle(true)) {
                rt.withdraw(this); // the caller cancelled the future: take the wait off the queue
            }
        });
    }

    /** The future for a caller of the async API: completed on a callback thread. */
    CompletableFuture<Lease> forCaller() {
        forCaller = true;
        return future;
    }

    private void complete(Runnable completion) {
        if (forCaller) {
            rt.runCallback(completion);
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
        rt.settled(this, withdrawing);
        return true;
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

    void grant(long token) {
        synchronized (this) {
            if (settled && grantedToken == token) {
                return; // the same grant reported twice (reply and event)
            }
            if (!settled) {
                grantedToken = token;
            }
        }
        if (!settle()) {
            rt.giveBack(name, token); // granted after we gave up: give it back
            return;
        }
        RuntimeLease lease = rt.newLease(name, mode, permits, token, leaseMillis, startedNanos);
        complete(() -> {
            if (!future.complete(lease)) {
                lease.releaseQuietly();
            }
        });
    }

    void busy() {
        if (settle()) {
            complete(() -> future.complete(null));
        }
    }

    void fail(Throwable cause) {
        if (settle()) {
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
            rt.withdraw(this);
            complete(() -> future.completeExceptionally(cause));
        }
    }

    /** Blocks for the outcome; on interrupt the wait is withdrawn from the queue before returning. */
    Lease await() throws InterruptedException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            abandon();
            throw e;
        } catch (ExecutionException e) {
            throw ClientRuntime.rethrow(ClientRuntime.unwrap(e));
        }
    }

    /**
     * Blocks for the outcome of a try, which the service answers at once, without reacting to
     * interrupts. Bounded by the retry policy, so that a lost answer cannot block the caller
     * forever.
     */
    Lease awaitUninterruptibly() {
        long bound = rt.options().retryPolicy().maxElapsed().toMillis()
                + 2 * rt.options().requestTimeout().toMillis();
        boolean interrupted = false;
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(bound);
            while (true) {
                try {
                    return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw ClientRuntime.rethrow(ClientRuntime.unwrap(e));
                } catch (TimeoutException e) {
                    cancel(new io.holdfast.UnavailableException("no answer to the try within " + bound + " ms"));
                    return ClientRuntime.join(future);
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
            try {
                rt.withdraw(this).get(rt.options().requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException again) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // not answered yet: the withdrawal goes on in the background
            }
            future.cancel(false);
        } else if (!future.cancel(false) && !future.isCompletedExceptionally()) {
            Lease lease = future.getNow(null);
            if (lease instanceof RuntimeLease rl) {
                rl.releaseQuietly();
            }
        }
    }
}
