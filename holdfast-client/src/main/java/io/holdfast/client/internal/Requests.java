package io.holdfast.client.internal;

import io.holdfast.ClientOptions;
import io.holdfast.ErrorCode;
import io.holdfast.RetryPolicy;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Backoffs;
import io.holdfast.lease.Retries;
import io.holdfast.model.Command;
import io.holdfast.model.InvocationLedger;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How the client sends: every changing request numbered by the session's {@link
 * InvocationLedger}, every request retried on unavailability with the retry policy.
 *
 * <p><b>Guarantees.</b> A retry re-sends the same command, with the same invocation, so the
 * table answers it from its memory if the first one was applied: no request takes effect twice.
 * An answer is never retried, only its absence ({@link UnavailableException}, or no answer within
 * the request timeout). A request whose outcome the client must know (a release, the withdrawal
 * of a wait: {@link #untilKnown}) keeps its number outstanding and is sent again in the
 * background until the service answers or the session ends. When the client closes, every request
 * not answered yet fails with {@link SessionExpiredException}.
 *
 * <p><b>Does not guarantee</b> an answer: a request whose attempts all went unanswered fails with
 * {@link UnavailableException}, and it may or may not have been applied.
 */
final class Requests {
    private static final RetryPolicy UNTIL_KNOWN = Backoffs.untilKnown();

    private final LockService transport;
    private final ClientOptions options;
    private final ClientThreads threads;
    private final ClientSession session;
    private final InvocationLedger ledger;
    /** Requests not answered yet; failed on close, when their retries can no longer run. */
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
    /** The retry policy over the client's ticker; no retry once the client is cut off or closed. */
    private final Retries retries;

    private final ClientTracing tracing;

    /** Subscribes to the session's events; run once, by the first acquire ({@link #eventsReady}). */
    private volatile Supplier<CompletableFuture<Void>> subscribe = () -> CompletableFuture.completedFuture(null);
    /** The subscription, once the first acquire asked for it; guarded by {@code this}. */
    private CompletableFuture<Void> events;

    Requests(
            LockService transport,
            ClientOptions options,
            ClientThreads threads,
            ClientSession session,
            ClientTracing tracing) {
        this.transport = transport;
        this.tracing = tracing;
        this.options = options;
        this.threads = threads;
        this.session = session;
        this.ledger = new InvocationLedger(session.id(), 1);
        this.retries = Retries.of(options.retryPolicy(), options.ticker()).stopWhen(this::stopped);
    }

    /**
     * How the session's events are subscribed to, done by its first acquire: a session that never
     * acquires (most of a fleet's: they only keep their session) keeps no event stream at its
     * member. Nothing else needs one: only an acquire leads to a grant, an end of a wait or a loss,
     * and a session's expiry is answered to its next heartbeat too.
     */
    void subscribeOnFirstAcquire(Supplier<CompletableFuture<Void>> subscribe) {
        this.subscribe = subscribe;
    }

    /**
     * Done once the session's events are delivered (or the transport stopped waiting for that: the
     * subscriber is then told of a gap): subscribed to on the first call, so that the events of an
     * acquire sent after it completes are not missed. Never failed.
     */
    CompletableFuture<Void> eventsReady() {
        synchronized (this) {
            if (events == null) {
                CompletableFuture<Void> subscribed;
                try {
                    subscribed = subscribe.get();
                } catch (RuntimeException e) {
                    subscribed = CompletableFuture.completedFuture(null); // events lost: the waits' backstops ask
                }
                events = subscribed.exceptionally(e -> null);
            }
            return events;
        }
    }

    /** The client's spans. */
    ClientTracing tracing() {
        return tracing;
    }

    /** A new number, outstanding until {@link #end}. */
    Command.Invocation begin() {
        return ledger.begin();
    }

    void end(long seq) {
        ledger.end(seq);
    }

    /** Sends a command, retrying on unavailability with the retry policy; never retries a reply. */
    CompletableFuture<Reply> call(Command command) {
        return withRetries(() -> transport.submit(command), null);
    }

    /**
     * Like {@link #call(Command)}; {@code resending} runs before each retry, whose answer may be one
     * the table remembers from an attempt that was applied (a grant made a while ago).
     */
    CompletableFuture<Reply> call(Command command, Runnable resending) {
        return withRetries(
                () -> transport.submit(command), null, retries.onRetry((failure, attempt, pause) -> resending.run()));
    }

    /** Sends a command that needs an invocation; its number ends with the reply. */
    CompletableFuture<Reply> callOnce(Function<Command.Invocation, Command> build) {
        session.ensureOpen();
        Command.Invocation inv = begin();
        return call(build.apply(inv)).whenComplete((r, e) -> end(inv.seq()));
    }

    /** A read, retried on unavailability like a command (reads change nothing, so that is safe). */
    <T> CompletableFuture<T> query(Function<LockService, CompletableFuture<T>> read) {
        session.ensureOpen();
        return withRetries(() -> read.apply(transport), null);
    }

    /**
     * A read without the session: a client that renews its sessions reads and watches between two
     * of them too (ADR 0004). Retried on unavailability like a command.
     */
    <T> CompletableFuture<T> read(Function<LockService, CompletableFuture<T>> read) {
        return withRetries(() -> read.apply(transport), null);
    }

    /** One attempt, never retried: a try of opening a client's next session ({@link SessionRenewal}). */
    CompletableFuture<Reply> once(Command command) {
        return send(() -> transport.submit(command), Context.current());
    }

    /**
     * Opens the session with the service within the connect timeout ({@link
     * ClientOptions#connectTimeout()}, counted from {@code begunNanos}): asked for again with the
     * retry policy's backoff while the service cannot be reached, never after the deadline, and
     * failed at the deadline even if an attempt is still under way (a member that drops packets
     * answers nothing until the request timeout).
     *
     * @param target what is being reached, for the message
     */
    CompletableFuture<Reply> open(Command open, String target, long begunNanos) {
        return withRetries(() -> transport.submit(open), new Budget(target, options.connectTimeout(), begunNanos));
    }

    /**
     * Sends a command whose effect the client must be sure of: a release, or the withdrawal of a
     * wait. Without that, a lock the client no longer wants would stay held by its session, which
     * lives on and keeps sending heartbeats: nobody would ever free it. The first attempt runs with
     * the retry policy like any call; while the outcome stays unknown (no answer, or a reply lost
     * on the way) the same invocation is sent again in the background, with the growing delays of
     * {@link Backoffs#untilKnown()}, until the service answers or the session ends (its end frees everything anyway). The
     * number stays outstanding until then, so a late retry gets the original answer.
     *
     * @param onKnown called with the service's answer, if not null
     * @return the first attempt's outcome; failed with {@link SessionExpiredException} at once if
     *     the session is over
     */
    CompletableFuture<Reply> untilKnown(Function<Command.Invocation, Command> build, Consumer<Reply> onKnown) {
        try {
            session.ensureOpen();
        } catch (SessionExpiredException e) {
            return CompletableFuture.failedFuture(e);
        }
        Command.Invocation inv = begin();
        Command command = build.apply(inv);
        CompletableFuture<Reply> first = call(command);
        first.whenComplete((reply, error) -> knownOrAgain(command, inv.seq(), reply, error, onKnown, 1));
        return first;
    }

    private void knownOrAgain(
            Command command, long seq, Reply reply, Throwable error, Consumer<Reply> onKnown, int round) {
        boolean unknown = error != null || (reply instanceof Reply.Failed f && f.code() == ErrorCode.UNAVAILABLE);
        if (unknown && session.isOpen() && !session.isSevered()) {
            long delay = UNTIL_KNOWN.delayBefore(Math.min(round, 64), () -> 0.0).toMillis();
            threads.schedule(
                    () -> call(command).whenComplete((r, e) -> knownOrAgain(command, seq, r, e, onKnown, round + 1)),
                    delay);
            return;
        }
        end(seq);
        if (!unknown && onKnown != null) {
            onKnown.accept(reply);
        }
    }

    /** Fails every request not answered yet: the client is closed. */
    void failInFlight(RuntimeException cause) {
        for (CompletableFuture<?> request : new ArrayList<>(inFlight)) {
            request.completeExceptionally(cause);
        }
    }

    /** The connect timeout of opening the session, counted from {@code begunNanos}. */
    private record Budget(String target, Duration timeout, long begunNanos) {
        long leftNanos(long nowNanos) {
            return timeout.toNanos() - (nowNanos - begunNanos);
        }
    }

    /**
     * Runs a request, retrying it on unavailability with the retry policy (and within the budget,
     * if there is one); never retries an answer.
     */
    private <T> CompletableFuture<T> withRetries(Supplier<CompletableFuture<T>> request, Budget budget) {
        return withRetries(request, budget, retries);
    }

    private <T> CompletableFuture<T> withRetries(
            Supplier<CompletableFuture<T>> request, Budget budget, Retries unbudgeted) {
        // The last failure, for the budget's message (no allocation for the calls without one).
        AtomicReference<Throwable> last = budget == null ? null : new AtomicReference<>();
        // Every attempt, a retry on the timer thread too, is sent in the caller's trace.
        Context trace = Context.current();
        CompletableFuture<T> result = (budget == null ? unbudgeted : budgeted(budget, last))
                .callAsync(attempt -> send(request, trace), Requests::retryable, threads.timers());
        inFlight.add(result);
        result.whenComplete((r, e) -> inFlight.remove(result));
        if (budget != null) {
            ScheduledFuture<?> giveUp = threads.scheduleNanos(
                    () -> {
                        Throwable lastFailure = last.get();
                        result.completeExceptionally(new UnavailableException(
                                "could not open a session with " + budget.target() + " within the connect timeout ("
                                        + Replies.format(budget.timeout()) + ")"
                                        + (lastFailure == null
                                                ? ": no answer"
                                                : "; last failure: " + lastFailure.getMessage()),
                                lastFailure));
                    },
                    Math.max(0, budget.leftNanos(options.ticker().nanos())));
            if (giveUp != null) {
                result.whenComplete((r, e) -> giveUp.cancel(false));
            }
        }
        return result;
    }

    /**
     * The retries of opening the session: none once the budget is spent (its timer fails the
     * request at the deadline, even while an attempt is under way); a request that runs out of
     * attempts says how many it made.
     */
    private Retries budgeted(Budget budget, AtomicReference<Throwable> last) {
        return retries.stopWhen(
                        () -> stopped() || budget.leftNanos(options.ticker().nanos()) <= 0)
                .onRetry((failure, attempt, pause) -> last.set(failure))
                .onGiveUp((failure, attempts, elapsed) -> new UnavailableException(
                        "could not open a session with " + budget.target() + " (" + attempts
                                + (attempts == 1 ? " attempt in " : " attempts in ") + Replies.format(elapsed) + "): "
                                + failure.getMessage(),
                        failure));
    }

    /** No request is retried once the client is cut off or closed. */
    private boolean stopped() {
        return session.isSevered() || session.isClosed();
    }

    /** Only unavailability is retried (a timeout is reported as one): never an answer. */
    private static boolean retryable(RuntimeException failure) {
        return failure instanceof UnavailableException;
    }

    /** One attempt: the request sent, with a timer of its own if the transport does not bound calls. */
    private <T> CompletableFuture<T> send(Supplier<CompletableFuture<T>> request, Context trace) {
        if (session.isSevered()) {
            return CompletableFuture.failedFuture(new UnavailableException("the client is cut off (simulated crash)"));
        }
        CompletableFuture<T> sent;
        try (Scope ignored = trace.makeCurrent()) {
            sent = request.get();
        }
        if (transport.boundsCalls()) {
            return sent; // its calls fail with UnavailableException when no answer comes in time
        }
        return sent.orTimeout(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .exceptionallyCompose(error -> {
                    Throwable cause = Replies.unwrap(error);
                    return CompletableFuture.failedFuture(
                            cause instanceof TimeoutException
                                    ? new UnavailableException("no answer within " + options.requestTimeout(), cause)
                                    : cause);
                });
    }
}
