// Ceiling 515 lines, one idea: the lease state machine every engine shares (states, listeners, the
// watchdog rule, validity by the clock); most of its length is the contract its subclasses rely on.
package io.holdfast.lease;

import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.NotOwnerException;
import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The one implementation of {@link Lease} that every Holdfast engine uses: its state machine, its
 * loss listeners and its renewal watchdog. An engine subclasses it and supplies only how a grant is
 * renewed and released in its backend, in the manner of {@link
 * java.util.concurrent.locks.AbstractQueuedSynchronizer}: the public methods are final and keep the
 * rules below; the protected hooks talk to the backend and know nothing of state or listeners.
 *
 * <h2>States</h2>
 *
 * A lease is born {@code HELD} and ends exactly once, either {@code RELEASED} (by {@link #release},
 * {@link #releaseAsync}, {@link #close} or the engine's {@link #markReleased}) or {@code LOST} (by
 * {@link #markLost}: the backend refused a renewal, the engine learnt of a loss, or the watchdog
 * rule below fired). The first end wins; every later attempt to end it is a no-op. When it ends,
 * the watchdog stops and {@link LeaseHost#forget} is called once.
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li><b>Loss listeners.</b> {@link #onLost} refuses a {@code null} listener with {@link
 *       InvalidArgumentException}. Each listener is called once, on a host thread ({@link
 *       LeaseHost#runCallback}), each in a task of its own; a listener that throws is caught and
 *       reported to {@link LeaseHost#callbackFailed}, and never stops the other listeners or the
 *       watchdog. A listener registered after the loss is called at once (on a host thread).
 *   <li><b>Renewal period.</b> The watchdog ({@link #startRenewals}) renews every period the engine
 *       gives. The first renewal is due one period after the moment the grant is counted from (a
 *       moment known to precede the grant: the start of the acquire). A lease just granted is
 *       therefore not renewed at once. One whose acquire started a period or more ago is renewed at
 *       once (a catch-up renewal), and that renewal's answer decides, since a backend never revives
 *       a lapsed grant: acknowledged, the expiry counts from its sending; refused, the lease is lost;
 *       unknown, the expiry still counts from the acquire's start. Until it is answered the lease
 *       is not valid (the grant may have lapsed before it reached this client), and the future
 *       {@link #startRenewals} returns tells the engine when it may hand the lease out. The
 *       watchdog counts the unanswered renewal from its sending, so a lease is never held longer
 *       without an answer than an expiry.
 *   <li><b>Expiry.</b> The lease is declared lost once no renewal has been acknowledged for a
 *       whole expiry, measured from the moment the last acknowledged renewal was <em>sent</em> (or
 *       from the grant's count-from moment before the first): by then the backend may have given
 *       the grant to someone else, so the lease must not look valid any longer.
 *   <li><b>Release.</b> Releasing a released lease does nothing; releasing a lost one throws (or
 *       fails the future with) {@link LockLostException}. The lease is marked released before the
 *       backend is told, so it is invalid at once whatever the backend answers.
 * </ul>
 *
 * <h2>Hooks</h2>
 *
 * <ul>
 *   <li>{@link #renewInBackend()}: one renewal; synchronous engines return a completed future.
 *   <li>{@link #releaseInBackend()}: the blocking release.
 *   <li>{@link #releaseInBackendAsync()}: the asynchronous release; by default {@link
 *       #releaseInBackend()} on a host thread.
 *   <li>{@link #describe()}: how the lease is named in messages.
 * </ul>
 *
 * <p><b>What it does not guarantee</b>: anything about the backend. Validity is this client's
 * view; a stalled process can still believe in a lease the backend already gave away (fence your
 * writes with {@link #fencingToken()}).
 *
 * <p><b>Failure story.</b> The backend stops answering renewals. Each round's outcome is {@link
 * RenewOutcome.Unknown}, reported to {@link LeaseHost#renewalFailed}; the round at which a whole
 * expiry has passed since the last acknowledged renewal was sent declares the lease lost, stops the
 * watchdog, and calls every listener with a {@link LockLostException} that says so.
 */
public abstract class ManagedLease implements Lease {
    private enum State {
        HELD,
        RELEASED,
        LOST
    }

    private final LeaseHost host;
    /** What the handle asked for, by reference: the lease's name, mode and permits. */
    private final LeaseRequest request;

    private final long token;
    private final List<Consumer<? super LockLostException>> listeners = new ArrayList<>();
    private State state = State.HELD;
    private String lostWhy;
    private Future<?> watchdog;
    private long lastRenewedNanos;
    private long expiryNanos;
    private boolean catchUp;
    private boolean catchUpPending;
    /** {@link #isValid()} once found the lease past its validity: it stays invalid. */
    private boolean lapsed;

    private long catchUpSentNanos;
    /** Completes when the lease may be handed out ({@link #startRenewals}). */
    private final CompletableFuture<Void> confirmed = new CompletableFuture<>();

    /**
     * @param host the engine's services
     * @param request what the handle asked for ({@link Handles} made it): name, mode and permits
     * @param token the fencing token
     * @param countFromNanos on {@link LeaseHost#nanos()}: a moment known to precede the grant (the
     *     start of the acquire), from which the expiry is counted until a renewal is acknowledged
     */
    protected ManagedLease(LeaseHost host, LeaseRequest request, long token, long countFromNanos) {
        this.host = host;
        this.request = request;
        this.token = token;
        this.lastRenewedNanos = countFromNanos;
    }

    // ------------------------------------------------------------------------------ hooks

    /**
     * Hook: renews the grant once in the backend. Called on the host's timer thread; it may block
     * (a synchronous store) or return at once with a future the backend completes later. The lease
     * measures the round from just before this call.
     *
     * @return the outcome; a future that fails, or a hook that throws, counts as {@link
     *     RenewOutcome.Unknown}
     */
    protected abstract CompletableFuture<RenewOutcome> renewInBackend();

    /**
     * Hook: gives the grant back in the backend and blocks until the caller may be told. Called at
     * most once, after the lease was marked released and forgotten.
     *
     * @throws LockLostException if the backend no longer had the grant
     * @throws io.holdfast.UnavailableException if the backend could not be reached
     */
    protected abstract void releaseInBackend();

    /**
     * Hook: the asynchronous form of {@link #releaseInBackend()}, with the same failures in the
     * future; the future must complete on a thread where the caller's continuations may block. The
     * default runs {@link #releaseInBackend()} on a host thread ({@link LeaseHost#runCallback}).
     */
    protected CompletableFuture<Void> releaseInBackendAsync() {
        return CompletableFuture.runAsync(this::releaseInBackend, host::runCallback);
    }

    /** Hook: "lock orders/42 (token 7)", for messages. */
    protected String describe() {
        return (request.mode() == LockMode.PERMITS ? request.permits() + " permits of " : "lock ") + request.name()
                + " (token " + token + ")";
    }

    // ------------------------------------------------------------------------------ Lease

    @Override
    public final String name() {
        return request.name();
    }

    @Override
    public final LockMode mode() {
        return request.mode();
    }

    @Override
    public final int permits() {
        return request.permits();
    }

    @Override
    public final long fencingToken() {
        return token;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Read against the clock, not only the state: false from the moment the expiry rule puts the
     * lease out of the engine's hands ({@link #validUntilNanos()}), even if the watchdog or the
     * engine's heartbeat that will declare the loss has not run yet (a late timer thread on a
     * loaded machine, a process that was paused); false too while a catch-up renewal is unanswered
     * (the engine hands such a lease out only once it is). Once false it stays false, even if an
     * acknowledgement sent in time arrives later: the lease is then still held (release it as
     * usual), but no longer vouched for.
     */
    @Override
    public final synchronized boolean isValid() {
        return state == State.HELD && !pastValidity();
    }

    /**
     * @throws LockLostException also while the lease is still held but past {@link
     *     #validUntilNanos()}: its loss is about to be declared
     */
    @Override
    public final synchronized void checkValid() {
        if (state == State.LOST) {
            throw lost();
        }
        if (state == State.RELEASED) {
            throw new NotOwnerException(describe() + " was released");
        }
        if (pastValidity()) {
            throw new LockLostException(describe() + " is no longer valid: nothing acknowledged it within its expiry");
        }
    }

    /**
     * The moment, on {@link LeaseHost#nanos()}, until which this client may count on the grant:
     * the earlier of the engine's own limit ({@link LeaseHost#validUntilNanos()}: a session's TTL
     * counted from its last acknowledged heartbeat) and, once renewals run, the expiry counted from
     * the sending of the last acknowledged renewal (from the count-from moment before the first).
     */
    private long validUntilNanos() {
        long until = host.validUntilNanos();
        if (expiryNanos > 0) {
            long own = lastRenewedNanos + expiryNanos; // only an acknowledged renewal vouches
            if (until == Long.MAX_VALUE || own - until < 0) {
                until = own;
            }
        }
        return until;
    }

    /**
     * Whether the clock has passed {@link #validUntilNanos()} (compared as nanoTime readings are).
     * Once seen, for good: an acknowledgement that comes later does not make the lease valid again,
     * so the moments at which {@link #isValid()} answers true form one interval from the grant.
     */
    private boolean pastValidity() {
        if (!lapsed && (catchUp || catchUpPending)) {
            return true; // not vouched for until the catch-up renewal is answered (not latched)
        }
        if (!lapsed) {
            long until = validUntilNanos();
            lapsed = until != Long.MAX_VALUE && host.nanos() - until >= 0;
        }
        return lapsed;
    }

    /**
     * {@inheritDoc}
     *
     * @throws InvalidArgumentException if {@code listener} is null
     */
    @Override
    public final void onLost(Consumer<? super LockLostException> listener) {
        if (listener == null) {
            throw new InvalidArgumentException("listener must not be null");
        }
        boolean now;
        synchronized (this) {
            now = state == State.LOST;
            if (!now) {
                listeners.add(listener);
            }
        }
        if (now) {
            tell(listener, lost());
        }
    }

    @Override
    public final void release() {
        if (beginRelease()) {
            releaseInBackend();
        }
    }

    @Override
    public final CompletableFuture<Void> releaseAsync() {
        try {
            if (!beginRelease()) {
                return CompletableFuture.completedFuture(null);
            }
            return releaseInBackendAsync();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final void close() {
        release();
    }

    // ------------------------------------------------------------------------------ for engines

    /**
     * Marks the lease released without telling the backend (the engine gives it back by other
     * means, or the client is closing or crashed). No listener is called.
     *
     * @return whether it was held until now
     */
    public final boolean markReleased() {
        synchronized (this) {
            if (state != State.HELD) {
                return false;
            }
            state = State.RELEASED;
            stopWatchdog();
        }
        host.forget(this);
        confirmed.completeExceptionally(new NotOwnerException(describe() + " was released"));
        return true;
    }

    /**
     * Declares the lease lost, if it is still held, and calls its listeners.
     *
     * @param why completes "lock x (token 7) was lost: ..."
     */
    public final void markLost(String why) {
        List<Consumer<? super LockLostException>> toCall;
        synchronized (this) {
            if (state != State.HELD) {
                return;
            }
            state = State.LOST;
            lostWhy = why;
            stopWatchdog();
            toCall = new ArrayList<>(listeners);
            listeners.clear();
        }
        host.forget(this);
        LockLostException e = lost();
        confirmed.completeExceptionally(e);
        for (Consumer<? super LockLostException> listener : toCall) {
            tell(listener, e);
        }
    }

    /**
     * Starts the watchdog (see the class comment for its rules). Does nothing if the lease is no
     * longer held or already has a watchdog, or if the host schedules nothing (it is closing).
     *
     * @param every the renewal period (at least 10 ms is used)
     * @param expiry how long the backend keeps the grant without a renewal
     * @return when the engine may hand the lease out: at once, unless a catch-up renewal is due;
     *     then when it is answered, failed with {@link LockLostException} if the grant is gone, or
     *     with {@link UnavailableException} if nothing vouches for it any longer (give it back)
     */
    public final CompletableFuture<Void> startRenewals(Duration every, Duration expiry) {
        long periodMillis = Math.max(10, every.toMillis());
        boolean due;
        synchronized (this) {
            if (state != State.HELD || watchdog != null) {
                return confirmed;
            }
            expiryNanos = expiry.toNanos();
            long sinceCountFrom = TimeUnit.NANOSECONDS.toMillis(host.nanos() - lastRenewedNanos);
            catchUp = sinceCountFrom >= periodMillis;
            watchdog = host.scheduleRenewals(
                    this::watchdogRound, Math.max(0, periodMillis - sinceCountFrom), periodMillis);
            due = catchUp;
            if (catchUp && watchdog == null) {
                catchUp = false; // the host is closing: nothing will confirm the grant
            }
        }
        if (!due) {
            confirmed.complete(null);
        } else if (watchdog == null) {
            confirmed.completeExceptionally(new UnavailableException(describe() + ": the client is closing"));
        }
        return confirmed;
    }

    // ------------------------------------------------------------------------------ internals

    private boolean beginRelease() {
        synchronized (this) {
            if (state == State.RELEASED) {
                return false;
            }
            if (state == State.LOST) {
                throw lost();
            }
            state = State.RELEASED;
            stopWatchdog();
        }
        host.forget(this);
        confirmed.completeExceptionally(new NotOwnerException(describe() + " was released"));
        return true;
    }

    /**
     * One round; throws nothing but a {@link VirtualMachineError} into the host's timer, where any
     * other exception would stop the watchdog for good.
     */
    private void watchdogRound() {
        try {
            renewOnce();
        } catch (VirtualMachineError fatal) {
            throw fatal;
        } catch (Throwable e) {
            report(false, e);
        }
    }

    private void renewOnce() {
        long sent = host.nanos();
        boolean catchUpRound;
        long countFrom;
        synchronized (this) {
            if (state != State.HELD) {
                return;
            }
            catchUpRound = catchUp;
            catchUp = false;
            countFrom = catchUpPending ? Math.max(lastRenewedNanos, catchUpSentNanos) : lastRenewedNanos;
            if (catchUpRound) {
                catchUpPending = true;
                catchUpSentNanos = sent;
            }
        }
        if (!catchUpRound && sent - countFrom >= expiryNanos) {
            markLost("no renewal was acknowledged within its expiry of " + TimeUnit.NANOSECONDS.toMillis(expiryNanos)
                    + " ms");
            return;
        }
        CompletableFuture<RenewOutcome> answer;
        try {
            answer = renewInBackend();
        } catch (RuntimeException e) {
            answered(catchUpRound, sent, RenewOutcome.unknown(e));
            return;
        }
        answer.whenComplete((outcome, error) ->
                answered(catchUpRound, sent, error != null ? RenewOutcome.unknown(error) : outcome));
    }

    private void answered(boolean catchUpRound, long sent, RenewOutcome outcome) {
        boolean decided;
        synchronized (this) {
            if (catchUpRound || outcome instanceof RenewOutcome.Renewed) {
                catchUpPending = false; // any acknowledged renewal confirms the grant
            }
            if (outcome instanceof RenewOutcome.Renewed) {
                lastRenewedNanos = Math.max(lastRenewedNanos, sent);
            }
            decided = !catchUp && !catchUpPending && !confirmed.isDone();
        }
        if (outcome instanceof RenewOutcome.Refused refused) {
            markLost(refused.why());
        } else if (outcome instanceof RenewOutcome.Unknown unknown) {
            report(false, unknown.cause());
        }
        if (decided && isValid()) {
            confirmed.complete(null);
        } else if (decided) {
            confirmed.completeExceptionally(new UnavailableException(
                    describe() + " was granted, but no renewal confirmed it within its expiry",
                    outcome instanceof RenewOutcome.Unknown unknown ? unknown.cause() : null));
        }
    }

    private void tell(Consumer<? super LockLostException> listener, LockLostException e) {
        Runnable safe = () -> {
            try {
                listener.accept(e);
            } catch (VirtualMachineError fatal) {
                throw fatal;
            } catch (Throwable failure) {
                report(true, failure);
            }
        };
        try {
            host.runCallback(safe);
        } catch (RuntimeException rejected) {
            safe.run();
        }
    }

    private void report(boolean callback, Throwable e) {
        try {
            if (callback) {
                host.callbackFailed(this, e);
            } else {
                host.renewalFailed(this, e);
            }
        } catch (RuntimeException ignored) {
            // reporting must not stop a watchdog or the other listeners either
        }
    }

    private void stopWatchdog() {
        if (watchdog != null) {
            watchdog.cancel(false);
            watchdog = null;
        }
    }

    private LockLostException lost() {
        return new LockLostException(describe() + " was lost: " + lostWhy);
    }

    @Override
    public final String toString() {
        synchronized (this) {
            return "Lease[" + describe() + ", " + state + "]";
        }
    }
}
