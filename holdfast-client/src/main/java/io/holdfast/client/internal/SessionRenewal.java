package io.holdfast.client.internal;

import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Backoffs;
import io.holdfast.internal.Causes;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Opens a client's next session after it lost one (ADR 0004): a try, then another after the
 * backoff of {@link Backoffs#sessionRenewal()} (100 ms doubling up to 2 s, full jitter), timed on
 * the client's scheduler, until one opens or the renewal is {@linkplain #stop stopped} (the client
 * closed).
 *
 * <p>A read that the service answers meanwhile brings the next try forward ({@link #tryNow}): the
 * service is back, and a client that watches or reads learns it before its backoff runs out.
 *
 * <p><b>Guarantees.</b> One try at a time. Each try is a new session with a new id ({@code opener}); the lost one is
 * never asked for again. A session that opens is handed to {@code opened} before anyone waiting
 * for it ({@link #within}) is told, so that they find it the client's. Between a loss and the next
 * session, {@link #within} answers the next session, or fails with {@link UnavailableException}
 * naming the loss's cause, and the last try's failure if one failed, when the caller's own timeout
 * passes first.
 *
 * <p><b>Does not</b> open the first session (the client does, within its connect timeout), and
 * does not decide whether to renew: the client begins a renewal only when its options ask for it.
 */
final class SessionRenewal {
    private static final RetryPolicy BACKOFF = Backoffs.sessionRenewal();

    private final ClientThreads threads;
    private final DoubleSupplier random;
    private final Supplier<CompletableFuture<LiveSession>> opener;
    private final Predicate<LiveSession> opened;

    /** The next session, while one is being opened; null while a session is open. Guarded by this. */
    private CompletableFuture<LiveSession> next;
    /**
     * Why the last session was lost, then, once a try failed, {@code "; the last try to open
     * another: "} and why (as the Python, Go and Node clients say it); guarded by this.
     */
    private String cause;
    /** Why the last session was lost, alone; guarded by this. */
    private String lostCause;
    /** Guarded by this. */
    private boolean stopped;
    /** Whether the tries have begun ({@link #start}); guarded by this. */
    private boolean started;
    /** Whether a try is under way; guarded by this. */
    private boolean trying;
    /** Tries that failed since the loss; guarded by this. */
    private int failed;
    /** The timer of the next try, if one is due; guarded by this. */
    private ScheduledFuture<?> due;

    /**
     * @param threads where the tries are timed (the client's scheduler)
     * @param random uniform numbers in [0, 1), for the jitter
     * @param opener one try: a session with a new id, completed once the service has opened it
     * @param opened takes an opened session as the client's; false if the client closed meanwhile
     *     (then it ends that session itself)
     */
    SessionRenewal(
            ClientThreads threads,
            DoubleSupplier random,
            Supplier<CompletableFuture<LiveSession>> opener,
            Predicate<LiveSession> opened) {
        this.threads = threads;
        this.random = random;
        this.opener = opener;
        this.opened = opened;
    }

    /**
     * The session was lost for {@code why}: from now on {@link #within} waits for the next one, but
     * no try is made before {@link #start} (the client first tells what the loss took).
     */
    void expect(String why) {
        synchronized (this) {
            if (stopped || next != null) {
                return;
            }
            cause = why;
            lostCause = why;
            next = new CompletableFuture<>();
            failed = 0;
            started = false;
        }
    }

    /** Tries to open the next session, after the backoff's first pause, until one opens. */
    void start() {
        synchronized (this) {
            if (stopped || next == null || started) {
                return;
            }
            started = true;
        }
        schedule(BACKOFF.delayBefore(1, random));
    }

    /**
     * The service answered something (a read between two sessions): it is back, so the next try is
     * made now rather than at the end of its backoff. Nothing if no session is being opened or a
     * try is under way.
     */
    void tryNow() {
        synchronized (this) {
            if (stopped || next == null || !started || trying) {
                return;
            }
            if (due != null) {
                due.cancel(false);
            }
        }
        schedule(Duration.ZERO);
    }

    /** Whether a next session is being opened now. */
    synchronized boolean isRenewing() {
        return next != null;
    }

    /**
     * The next session, within {@code timeout} on the client's scheduler; null when none is being
     * opened (a session is open, or the renewal stopped). Fails with {@link UnavailableException}
     * ({@code no session: the last was lost (CAUSE); opening a new one}) when the timeout passes
     * first, and as the renewal was stopped if it is.
     */
    CompletableFuture<LiveSession> within(Duration timeout) {
        CompletableFuture<LiveSession> pending;
        synchronized (this) {
            pending = next;
        }
        if (pending == null) {
            return null;
        }
        CompletableFuture<LiveSession> bounded = new CompletableFuture<>();
        pending.whenComplete((live, error) -> {
            if (error == null) {
                bounded.complete(live);
            } else {
                bounded.completeExceptionally(error);
            }
        });
        ScheduledFuture<?> timer = threads.scheduleNanos(
                () -> bounded.completeExceptionally(new UnavailableException(
                        "no session: the last was lost (" + causeNow() + "); opening a new one")),
                Math.max(0, timeout.toNanos()));
        if (timer != null) {
            bounded.whenComplete((live, error) -> timer.cancel(false));
        }
        return bounded;
    }

    private synchronized String causeNow() {
        return cause;
    }

    /** No more tries: whoever waits for the next session fails with {@code why}. Idempotent. */
    void stop(RuntimeException why) {
        CompletableFuture<LiveSession> pending;
        synchronized (this) {
            stopped = true;
            pending = next;
            next = null;
        }
        if (pending != null) {
            pending.completeExceptionally(why);
        }
    }

    private void schedule(Duration pause) {
        ScheduledFuture<?> timer = threads.scheduleNanos(this::attempt, pause.toNanos()); // null: closed
        synchronized (this) {
            due = timer;
        }
    }

    private void attempt() {
        synchronized (this) {
            if (stopped || next == null || trying) {
                return;
            }
            trying = true;
        }
        CompletableFuture<LiveSession> tried;
        try {
            tried = opener.get();
        } catch (RuntimeException e) {
            tried = CompletableFuture.failedFuture(e);
        }
        tried.whenComplete((live, error) -> {
            if (error != null) {
                int retry;
                synchronized (this) {
                    trying = false;
                    retry = ++failed + 1;
                    // A token revoked or rotated out says so here, not only "no heartbeat".
                    cause = lostCause + "; the last try to open another: " + Causes.rootMessage(error);
                }
                schedule(BACKOFF.delayBefore(Math.min(retry, 64), random));
                return;
            }
            CompletableFuture<LiveSession> pending;
            synchronized (this) {
                trying = false;
                pending = next;
                next = null;
            }
            // Handed over even when stopped meanwhile: the client then ends it at once.
            if (opened.test(live) && pending != null) {
                pending.complete(live);
            }
        });
    }
}
