// Over 450 lines, and more than one idea: session, invocation ledger, waits, heartbeats and the
// engine side of holdfast-lease's leases. Not split yet: issue 19 item 2 splits it along those seams
// (etcd's session/mutex shape); the lease state machine already left for holdfast-lease.
package io.holdfast.client.internal;

import io.holdfast.AcquireOptions;
import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.ConflictException;
import io.holdfast.DeadlockException;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedMultiLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.ErrorCode;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.Names;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnavailableException;
import io.holdfast.VersionedRegister;
import io.holdfast.core.Command;
import io.holdfast.core.Command.Invocation;
import io.holdfast.core.Event;
import io.holdfast.core.LockService;
import io.holdfast.core.Reply;
import io.holdfast.lease.Acquirer;
import io.holdfast.lease.GroupAcquirer;
import io.holdfast.lease.Handles;
import io.holdfast.lease.LeaseHost;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.lease.ManagedLease;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * The client half of Holdfast over any {@link LockService}: one session, its heartbeats, the
 * leases it holds and the waits it has queued.
 *
 * <p><b>For maintainers.</b> Every changing request gets a sequence number; the table remembers the
 * reply until the request's seq falls below {@code ackedBelow}, which is the lowest seq whose final
 * outcome this client does not know yet. A queued acquire stays outstanding until its grant or
 * timeout arrives, so if the event is lost, re-sending the same acquire returns the outcome.
 * Retries re-send the same command (same seq) with the retry policy's backoff.
 *
 * <p>Waits are registered in {@code pending} before they are sent, because the grant event can
 * arrive before the "queued" reply. User-visible futures are completed on the callback executor,
 * never on the event thread, so user code cannot stall event delivery.
 *
 * <p>Owners: a blocking acquire is made on behalf of the calling thread (one owner id per thread),
 * so the service's deadlock detection sees what each thread holds. An asynchronous acquire gets
 * an owner id of its own.
 *
 * <p>Session loss: if the service says the session expired, or no heartbeat has been acknowledged
 * for a whole TTL (measured from the sending of the last acknowledged one, which is no later than
 * the service's own measure), every lease is marked lost and its listeners told.
 */
public final class ClientRuntime implements LockClient {
    private enum State {
        OPEN,
        EXPIRED,
        CLOSED
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String providerName;
    private final LockService transport;
    private final ClientOptions options;
    private final Set<Capability> capabilities;
    private final String sessionId;
    private final long ttlNanos;
    private final AtomicLong seqs = new AtomicLong();
    private final ConcurrentSkipListSet<Long> outstanding = new ConcurrentSkipListSet<>();
    private final AtomicLong owners = new AtomicLong();
    private final ThreadLocal<Long> threadOwner = ThreadLocal.withInitial(owners::incrementAndGet);
    private final Map<Long, PendingWait<?>> pending = new ConcurrentHashMap<>();
    private final Map<Long, RuntimeLease> leases = new ConcurrentHashMap<>();
    /** Requests not answered yet; failed on close, when their retries can no longer run. */
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();

    private final ScheduledExecutorService scheduler;
    private final ExecutorService callbacks;
    private final AdminHandle admin = new AdminHandle(this);
    private final LeaseHost leaseHost = new LeaseHostOfRuntime();
    private final Acquirer acquirer = new AcquirerOfRuntime();
    private volatile State state = State.OPEN;
    private volatile boolean severed;
    private volatile long lastAckNanos;

    private ClientRuntime(String providerName, LockService transport, ClientOptions options, Set<Capability> caps) {
        this.providerName = providerName;
        this.transport = transport;
        this.options = options;
        this.capabilities = caps.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(caps);
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        this.sessionId = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
        this.ttlNanos = options.sessionTtl().toNanos();
        java.util.concurrent.ScheduledThreadPoolExecutor timers = new java.util.concurrent.ScheduledThreadPoolExecutor(
                1, LocalNode.daemon("holdfast-client-" + sessionId.substring(0, 6)));
        // Every acquire sets a timer that is cancelled when the answer comes: drop those at once
        // instead of keeping them queued until they would have fired (a wait may last minutes).
        timers.setRemoveOnCancelPolicy(true);
        this.scheduler = timers;
        this.callbacks =
                Executors.newCachedThreadPool(LocalNode.daemon("holdfast-callbacks-" + sessionId.substring(0, 6)));
    }

    /**
     * Opens a session over the transport and starts its heartbeats.
     *
     * @throws UnavailableException if the session could not be opened
     */
    public static ClientRuntime open(
            String providerName, LockService transport, ClientOptions options, Set<Capability> capabilities) {
        return open(providerName, "the " + providerName + " service", transport, options, capabilities);
    }

    /**
     * Opens a session over the transport and starts its heartbeats, within the connect timeout
     * ({@link ClientOptions#connectTimeout()}, counted from this call): the session is asked for
     * again with the retry policy's backoff while the service cannot be reached, but never after
     * the connect timeout has run out.
     *
     * @param target what the transport reaches, for messages (the members' addresses; never
     *     secrets)
     * @throws UnavailableException naming the target and the last failure if the session could not
     *     be opened in time
     */
    public static ClientRuntime open(
            String providerName,
            String target,
            LockService transport,
            ClientOptions options,
            Set<Capability> capabilities) {
        if (!options.lockDelay().isZero() && !capabilities.contains(Capability.LOCK_DELAY)) {
            throw new io.holdfast.UnsupportedFeatureException(
                    "the " + providerName + " provider does not support a lock-delay");
        }
        ClientRuntime rt = new ClientRuntime(providerName, transport, options, capabilities);
        rt.start(target);
        return rt;
    }

    private void start(String target) {
        long begun = options.ticker().nanos();
        transport.subscribe(sessionId, new LockService.Listener() {
            @Override
            public void onEvent(Event event) {
                ClientRuntime.this.onEvent(event);
            }

            @Override
            public void onGap() {
                ClientRuntime.this.onGap();
            }
        });
        long sent = options.ticker().nanos();
        Command open = new Command.OpenSession(
                0,
                sessionId,
                options.clientName(),
                options.sessionTtl().toMillis(),
                options.lockDelay().toMillis());
        Reply reply;
        try {
            // The event stream's start counts against the connect timeout too: it is a deadline.
            Budget budget = new Budget(target, options.connectTimeout(), begun);
            reply = join(withRetries(() -> transport.submit(open), budget));
        } catch (RuntimeException e) {
            transport.unsubscribe(sessionId);
            shutdownThreads();
            throw e;
        }
        if (!(reply instanceof Reply.Ok)) {
            shutdownThreads();
            throw failure(reply);
        }
        lastAckNanos = sent;
        scheduleHeartbeat(heartbeatInterval());
    }

    // ------------------------------------------------------------------------------ LockClient

    @Override
    public DistributedLock lock(String name) {
        return Handles.lock(acquirer, name);
    }

    @Override
    public DistributedReadWriteLock readWriteLock(String name) {
        return Handles.readWriteLock(acquirer, name);
    }

    @Override
    public DistributedSemaphore semaphore(String name, int permits) {
        return Handles.semaphore(acquirer, name, permits);
    }

    @Override
    public DistributedMultiLock multiLock(Collection<String> names, LockMode mode) {
        return Handles.multiLock(acquirer, options.ticker(), names, mode);
    }

    @Override
    public VersionedRegister register(String key) {
        return new RegisterHandle(this, Names.check(key));
    }

    @Override
    public Admin admin() {
        return admin;
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities.isEmpty() ? Set.of() : EnumSet.copyOf(capabilities);
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public boolean isOpen() {
        return state == State.OPEN;
    }

    @Override
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        boolean wasOpen = state == State.OPEN;
        state = State.CLOSED;
        for (RuntimeLease lease : new ArrayList<>(leases.values())) {
            lease.markReleased();
        }
        leases.clear();
        failPending(new SessionExpiredException("the client was closed"));
        if (wasOpen && !severed) {
            long seq = beginSeq();
            try {
                transport
                        .submit(new Command.CloseSession(0, invocation(seq)))
                        .get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // The session will expire after its TTL instead.
            }
        }
        transport.unsubscribe(sessionId);
        shutdownThreads();
        SessionExpiredException closed = new SessionExpiredException("the client was closed");
        for (CompletableFuture<?> request : new ArrayList<>(inFlight)) {
            request.completeExceptionally(closed);
        }
        transport.close();
    }

    /**
     * For tests of failure handling: behave as if this process had died. Nothing more is sent, so
     * the service expires the session after its TTL; the client notices on its own and reports
     * its leases lost.
     */
    public void simulateCrash() {
        severed = true;
    }

    @Override
    public String toString() {
        return "LockClient[" + providerName + ", session " + sessionId + ", " + state + "]";
    }

    // ------------------------------------------------------------------------------ requests

    String providerName() {
        return providerName;
    }

    LockService transport() {
        return transport;
    }

    ClientOptions options() {
        return options;
    }

    long threadOwner() {
        return threadOwner.get();
    }

    long newOwner() {
        return owners.incrementAndGet();
    }

    void requireCapability(Capability capability, String feature) {
        Handles.require(acquirer, capability, feature);
    }

    void ensureOpen() {
        if (state != State.OPEN) {
            throw new SessionExpiredException(
                    state == State.CLOSED ? "the client was closed" : "the session " + sessionId + " expired");
        }
    }

    /**
     * Synchronized so that a seq is outstanding before any higher seq exists: otherwise a request
     * built in between could declare it acknowledged (ackedBelow) before it was even sent.
     */
    synchronized long beginSeq() {
        long seq = seqs.incrementAndGet();
        outstanding.add(seq);
        return seq;
    }

    void endSeq(long seq) {
        outstanding.remove(seq);
    }

    Invocation invocation(long seq) {
        long lowest = seq;
        if (!outstanding.isEmpty()) {
            try {
                lowest = Math.min(seq, outstanding.first());
            } catch (java.util.NoSuchElementException raced) {
                // emptied meanwhile
            }
        }
        return new Invocation(sessionId, seq, lowest);
    }

    /** Sends a command, retrying on unavailability with the retry policy; never retries a reply. */
    CompletableFuture<Reply> call(Command command) {
        return withRetries(() -> transport.submit(command), null);
    }

    /** A read, retried on unavailability like a command (reads change nothing, so that is safe). */
    <T> CompletableFuture<T> query(java.util.function.Function<LockService, CompletableFuture<T>> read) {
        ensureOpen();
        return withRetries(() -> read.apply(transport), null);
    }

    /**
     * The connect timeout of opening the session: no attempt starts after its deadline, and the
     * request fails at the deadline even if an attempt is still under way (a member that drops
     * packets answers nothing until the request timeout).
     *
     * @param target what is being reached, for the message
     * @param timeout the connect timeout
     * @param begunNanos when opening began, on the options' ticker
     */
    private record Budget(String target, Duration timeout, long begunNanos) {
        long leftNanos(long nowNanos) {
            return timeout.toNanos() - (nowNanos - begunNanos);
        }
    }

    /**
     * Runs a request, retrying it on unavailability with the retry policy (and within the budget,
     * if there is one); never retries an answer.
     */
    private <T> CompletableFuture<T> withRetries(
            java.util.function.Supplier<CompletableFuture<T>> request, Budget budget) {
        CompletableFuture<T> result = new CompletableFuture<>();
        inFlight.add(result);
        result.whenComplete((r, e) -> inFlight.remove(result));
        // The last failure, for the budget's message (no allocation for the calls without one).
        java.util.concurrent.atomic.AtomicReference<Throwable> last =
                budget == null ? null : new java.util.concurrent.atomic.AtomicReference<>();
        long start = options.ticker().nanos();
        if (budget != null) {
            java.util.concurrent.ScheduledFuture<?> giveUp = schedule(
                    () -> {
                        Throwable lastFailure = last.get();
                        result.completeExceptionally(new UnavailableException(
                                "could not open a session with " + budget.target() + " within the connect timeout ("
                                        + format(budget.timeout()) + ")"
                                        + (lastFailure == null
                                                ? ": no answer"
                                                : "; last failure: " + lastFailure.getMessage()),
                                lastFailure));
                    },
                    Math.max(
                            0,
                            TimeUnit.NANOSECONDS.toMillis(
                                    budget.leftNanos(options.ticker().nanos()))));
            if (giveUp != null) {
                result.whenComplete((r, e) -> giveUp.cancel(false));
            }
        }
        attempt(request, 1, start, result, budget, last);
        return result;
    }

    private <T> void attempt(
            java.util.function.Supplier<CompletableFuture<T>> request,
            int attempt,
            long startNanos,
            CompletableFuture<T> result,
            Budget budget,
            java.util.concurrent.atomic.AtomicReference<Throwable> last) {
        if (result.isDone()) {
            return; // given up on (the budget ran out)
        }
        CompletableFuture<T> sent;
        if (severed) {
            sent = CompletableFuture.failedFuture(new UnavailableException("the client is cut off (simulated crash)"));
        } else {
            try {
                sent = request.get();
                if (!transport.boundsCalls()) {
                    sent = sent.orTimeout(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
        }
        sent.whenComplete((reply, error) -> {
            if (error == null) {
                result.complete(reply);
                return;
            }
            Throwable cause = unwrap(error);
            boolean retryable = cause instanceof UnavailableException || cause instanceof TimeoutException;
            Throwable failure = cause instanceof TimeoutException
                    ? new UnavailableException("no answer within " + options.requestTimeout(), cause)
                    : cause;
            if (retryable && last != null) {
                last.set(failure);
            }
            long now = options.ticker().nanos();
            Duration elapsed = Duration.ofNanos(now - startNanos);
            long leftNanos = budget == null ? Long.MAX_VALUE : budget.leftNanos(now);
            if (retryable
                    && !severed
                    && state != State.CLOSED
                    && !result.isDone()
                    && leftNanos > 0
                    && options.retryPolicy().allowsAnother(attempt, elapsed)) {
                Duration delay = options.retryPolicy().delayBefore(attempt, ThreadLocalRandom.current()::nextDouble);
                try {
                    scheduler.schedule(
                            () -> attempt(request, attempt + 1, startNanos, result, budget, last),
                            Math.min(delay.toNanos(), leftNanos),
                            TimeUnit.NANOSECONDS);
                    return;
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    // fall through: the client is shutting down
                }
            }
            if (retryable && budget != null) {
                failure = new UnavailableException(
                        "could not open a session with " + budget.target() + " (" + attempt
                                + (attempt == 1 ? " attempt in " : " attempts in ") + format(elapsed) + "): "
                                + failure.getMessage(),
                        failure);
            }
            result.completeExceptionally(failure);
        });
    }

    /** Sends a command that needs an invocation id; the seq ends with the reply. */
    CompletableFuture<Reply> callOnce(java.util.function.LongFunction<Command> build) {
        ensureOpen();
        long seq = beginSeq();
        return call(build.apply(seq)).whenComplete((r, e) -> endSeq(seq));
    }

    // ------------------------------------------------------------------------------ acquire

    /** Starts an acquire; the wait's future completes with a lease, or null for a busy try. */
    PendingWait<Lease> acquire(
            String name, LockMode mode, int permits, int maxPermits, AcquireOptions o, long owner, boolean tryOnly) {
        ensureOpen();
        long waitMillis = tryOnly ? 0 : ceilMillis(o.waitTime());
        long leaseMillis = o.leaseTimeout() == null ? 0 : o.leaseTimeout().toMillis();
        long seq = beginSeq();
        PendingWait<Lease> p =
                new PendingWait<>(this, seq, List.of(name), mode, permits, leaseMillis, leases -> leases.get(0));
        send(
                p,
                new Command.Acquire(
                        0, invocation(seq), name, mode, permits, maxPermits, owner, waitMillis, leaseMillis, false),
                waitMillis,
                tryOnly);
        return p;
    }

    /**
     * Starts a multi-lock: one command for every name, granted all at once by the service; the
     * wait's future completes with a lease per name (in the order of the sorted names), or null
     * for a busy try.
     */
    PendingWait<List<Lease>> acquireAll(
            List<String> sortedNames, LockMode mode, AcquireOptions o, long owner, boolean tryOnly) {
        ensureOpen();
        long waitMillis = tryOnly ? 0 : ceilMillis(o.waitTime());
        long leaseMillis = o.leaseTimeout() == null ? 0 : o.leaseTimeout().toMillis();
        long seq = beginSeq();
        PendingWait<List<Lease>> p =
                new PendingWait<>(this, seq, sortedNames, mode, 1, leaseMillis, leases -> List.copyOf(leases));
        send(
                p,
                new Command.AcquireAll(0, invocation(seq), sortedNames, mode, owner, waitMillis, leaseMillis),
                waitMillis,
                tryOnly);
        return p;
    }

    /** Sends an acquire's command for its wait, which is settled by the reply, an event or a backstop. */
    private void send(PendingWait<?> p, Command command, long waitMillis, boolean tryOnly) {
        pending.put(p.seq, p);
        p.command = command;
        java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
        // While the service cannot be reached the send is retried, but never past the wait:
        // a caller who asked to wait 3 s hears "unavailable" after about 3 s, not after the
        // retry policy's 30 s (or a session expiry). A try rides out two request timeouts,
        // enough for a leader election.
        long noAnswerMillis = (tryOnly ? options.requestTimeout().toMillis() : waitMillis)
                + options.requestTimeout().toMillis();
        java.util.concurrent.ScheduledFuture<?> noAnswer = schedule(
                () -> {
                    if (!answered.get()) {
                        p.cancel(new UnavailableException("the service did not answer within the wait of "
                                + waitMillis + " ms (and a request timeout of "
                                + options.requestTimeout().toMillis() + " ms)"));
                    }
                },
                noAnswerMillis);
        call(command).whenComplete((reply, error) -> {
            answered.set(true);
            if (noAnswer != null) {
                noAnswer.cancel(false);
            }
            try {
                if (error != null) {
                    p.cancel(unwrap(error)); // it may have been queued, or granted: withdraw it
                } else {
                    onAcquireReply(p, command, reply, waitMillis);
                }
            } catch (RuntimeException | Error e) {
                p.cancel(e); // never leave a caller waiting on a wait nobody will settle
            }
        });
    }

    private void onAcquireReply(PendingWait<?> p, Command command, Reply reply, long waitMillis) {
        if (reply instanceof Reply.Granted g) {
            p.grant(g.token());
        } else if (reply instanceof Reply.GrantedAll g) {
            p.grant(g.tokens());
        } else if (reply instanceof Reply.Busy) {
            p.busy();
        } else if (reply instanceof Reply.Queued) {
            // The service times the wait out; this is only a backstop for a lost event.
            long backstop = waitMillis + Math.max(2_000, options.sessionTtl().toMillis());
            p.backstop(schedule(() -> recheck(p, command), backstop));
        } else if (reply instanceof Reply.Failed f && f.code() == ErrorCode.UNAVAILABLE) {
            p.cancel(failure(reply)); // the reply was lost on the way: the outcome is unknown
        } else {
            p.fail(failure(reply));
        }
    }

    /** Re-sends a queued acquire's invocation: the table answers with its outcome so far. */
    private void recheckNow(PendingWait<?> p) {
        if (p.isSettled() || state != State.OPEN) {
            return;
        }
        call(p.command).whenComplete((reply, error) -> {
            if (error != null || reply instanceof Reply.Queued) {
                return;
            }
            List<Long> tokens = reply instanceof Reply.Granted g
                    ? List.of(g.token())
                    : reply instanceof Reply.GrantedAll g ? g.tokens() : null;
            if (tokens != null) {
                // The table remembers the grant even if a hold was lost since (revoked, timed
                // out) while events were not reaching us: make sure every one is still current.
                List<CompletableFuture<Boolean>> checks = new ArrayList<>(tokens.size());
                for (int i = 0; i < tokens.size(); i++) {
                    checks.add(transport.isCurrentHolder(p.names.get(i), tokens.get(i)));
                }
                CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new))
                        .whenComplete((done, e) -> {
                            if (e != null) {
                                return; // unknown: the backstop asks again
                            }
                            if (checks.stream().allMatch(c -> Boolean.TRUE.equals(c.join()))) {
                                p.grant(tokens);
                                return;
                            }
                            p.fail(new io.holdfast.LockLostException("lock " + p.name
                                    + " was granted and lost again while this client was disconnected"));
                            for (int i = 0; i < tokens.size(); i++) {
                                if (Boolean.TRUE.equals(checks.get(i).join())) {
                                    giveBack(p.names.get(i), tokens.get(i)); // a multi-lock is held whole or not at all
                                }
                            }
                        });
            } else {
                onAcquireReply(p, p.command, reply, 0);
            }
        });
    }

    /** No grant or timeout arrived in time: ask the table for the outcome of the same invocation. */
    private void recheck(PendingWait<?> p, Command command) {
        if (p.isSettled() || state != State.OPEN) {
            return;
        }
        call(command).whenComplete((reply, error) -> {
            if (error == null && reply instanceof Reply.Queued) {
                p.cancel(new LockTimeoutException("timed out waiting for " + String.join(", ", p.names)));
            } else if (error == null) {
                onAcquireReply(p, command, reply, 0);
            } else {
                p.cancel(unwrap(error));
            }
        });
    }

    /**
     * Withdraws a wait the client gave up on without knowing its outcome (cancelled, no answer, a
     * lost reply). The wait's seq stays outstanding until the service answers, so that the table
     * still remembers a grant that was made meanwhile and reports it; that grant is then given
     * back. Sent again in the background until the service answers (see {@link #untilKnown}).
     *
     * @return the first attempt's outcome
     */
    CompletableFuture<Reply> withdraw(PendingWait<?> p) {
        if (state != State.OPEN || severed) {
            endSeq(p.seq); // the session's end takes the wait off the queue
            return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        }
        return untilKnown(seq -> new Command.CancelWait(0, invocation(seq), p.name, p.seq), reply -> {
            endSeq(p.seq);
            if (reply instanceof Reply.Granted g) {
                giveBack(p.name, g.token());
            } else if (reply instanceof Reply.GrantedAll g) {
                for (int i = 0; i < g.tokens().size(); i++) {
                    giveBack(p.names.get(i), g.tokens().get(i));
                }
            }
        });
    }

    /**
     * Releases a grant nobody will use (a wait given up on, a lease released quietly), until the
     * service answers (see {@link #untilKnown}).
     */
    void giveBack(String name, long token) {
        RuntimeLease lease = leases.get(token);
        if (lease != null) {
            lease.markReleased();
        }
        if (state == State.OPEN && !severed) {
            untilKnown(seq -> new Command.Release(0, invocation(seq), name, token), null);
        }
    }

    /**
     * Sends a command whose effect the client must be sure of: a release, or the withdrawal of a
     * wait. Without that, a lock the client no longer wants would stay held by its session, which
     * lives on and keeps sending heartbeats: nobody would ever free it. The first attempt runs with
     * the retry policy like any call; while the outcome stays unknown (no answer, or a reply lost
     * on the way) the same invocation is sent again in the background, with a growing delay of up
     * to 5 s, until the service answers or the session ends (its end frees everything anyway). The
     * seq stays outstanding until then, so a late retry gets the original answer.
     *
     * @param onKnown called with the service's answer, if not null
     * @return the first attempt's outcome; failed with {@link SessionExpiredException} at once if
     *     the session is over
     */
    CompletableFuture<Reply> untilKnown(LongFunction<Command> build, Consumer<Reply> onKnown) {
        try {
            ensureOpen();
        } catch (SessionExpiredException e) {
            return CompletableFuture.failedFuture(e);
        }
        long seq = beginSeq();
        Command command = build.apply(seq);
        CompletableFuture<Reply> first = call(command);
        first.whenComplete((reply, error) -> knownOrAgain(command, seq, reply, error, onKnown, 1));
        return first;
    }

    private void knownOrAgain(
            Command command, long seq, Reply reply, Throwable error, Consumer<Reply> onKnown, int round) {
        boolean unknown = error != null || (reply instanceof Reply.Failed f && f.code() == ErrorCode.UNAVAILABLE);
        if (unknown && state == State.OPEN && !severed) {
            long delay = Math.min(5_000, 100L << Math.min(round, 6));
            schedule(
                    () -> call(command).whenComplete((r, e) -> knownOrAgain(command, seq, r, e, onKnown, round + 1)),
                    delay);
            return;
        }
        endSeq(seq);
        if (!unknown && onKnown != null) {
            onKnown.accept(reply);
        }
    }

    /**
     * @param countFromNanos when the acquire started: the watchdog counts the lease timeout from
     *     there until a renewal is acknowledged ({@link ManagedLease})
     */
    RuntimeLease newLease(String name, LockMode mode, int permits, long token, long leaseMillis, long countFromNanos) {
        RuntimeLease lease = new RuntimeLease(this, leaseHost, name, mode, permits, token, leaseMillis, countFromNanos);
        leases.put(token, lease);
        lease.startWatchdog();
        return lease;
    }

    /** What the leases of this runtime need from it. */
    private final class LeaseHostOfRuntime implements LeaseHost {
        @Override
        public long nanos() {
            return options.ticker().nanos();
        }

        /**
         * The session's TTL from the sending of its last acknowledged heartbeat: the leader counts
         * it from the heartbeat's arrival (later), and a new leader gives every session a fresh
         * TTL, so until then no other client can be granted what this session holds.
         */
        @Override
        public long validUntilNanos() {
            return lastAckNanos + ttlNanos;
        }

        @Override
        public java.util.concurrent.Future<?> scheduleRenewals(
                Runnable round, long initialDelayMillis, long periodMillis) {
            try {
                return scheduler.scheduleWithFixedDelay(round, initialDelayMillis, periodMillis, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                return null; // the client is closing; the lease goes with it
            }
        }

        @Override
        public void runCallback(Runnable task) {
            ClientRuntime.this.runCallback(task);
        }

        @Override
        public void forget(ManagedLease lease) {
            leases.remove(lease.fencingToken(), lease);
        }
    }

    /**
     * How the handles acquire. A blocking acquire or try is made on behalf of the calling thread
     * (one owner id per thread, for deadlock detection); an asynchronous one gets an owner of its
     * own. A multi-lock is one command for all its names (the service grants them together), not
     * one acquire per name.
     */
    private final class AcquirerOfRuntime implements Acquirer, GroupAcquirer {
        @Override
        public String provider() {
            return providerName;
        }

        @Override
        public Set<Capability> capabilities() {
            return capabilities;
        }

        @Override
        public Lease acquire(LeaseRequest r, AcquireOptions o) throws InterruptedException {
            return ClientRuntime.this
                    .acquire(r.name(), r.mode(), r.permits(), r.maxPermits(), o, threadOwner(), false)
                    .await();
        }

        @Override
        public Optional<Lease> tryAcquire(LeaseRequest r) {
            return Optional.ofNullable(ClientRuntime.this
                    .acquire(
                            r.name(),
                            r.mode(),
                            r.permits(),
                            r.maxPermits(),
                            AcquireOptions.tryOnce(),
                            threadOwner(),
                            true)
                    .awaitUninterruptibly());
        }

        @Override
        public CompletableFuture<Lease> acquireAsync(LeaseRequest r, AcquireOptions o) {
            return ClientRuntime.this
                    .acquire(r.name(), r.mode(), r.permits(), r.maxPermits(), o, newOwner(), false)
                    .forCaller();
        }

        @Override
        public List<Lease> acquireAll(List<String> names, LockMode mode, AcquireOptions o) throws InterruptedException {
            return ClientRuntime.this
                    .acquireAll(names, mode, o, threadOwner(), false)
                    .await();
        }

        @Override
        public Optional<List<Lease>> tryAcquireAll(List<String> names, LockMode mode) {
            return Optional.ofNullable(ClientRuntime.this
                    .acquireAll(names, mode, AcquireOptions.tryOnce(), threadOwner(), true)
                    .awaitUninterruptibly());
        }

        @Override
        public CompletableFuture<List<Lease>> acquireAllAsync(List<String> names, LockMode mode, AcquireOptions o) {
            return ClientRuntime.this
                    .acquireAll(names, mode, o, newOwner(), false)
                    .forCaller();
        }
    }

    /**
     * The wait is over for its caller. Its seq ends here unless it is being withdrawn: then the
     * withdrawal ends it when the service has answered ({@link #withdraw}).
     */
    void settled(PendingWait<?> p, boolean withdrawing) {
        pending.remove(p.seq, p);
        if (!withdrawing) {
            endSeq(p.seq);
        }
    }

    /**
     * The future to give a caller of an async method: it completes as {@code internal} does, but
     * on a callback thread. Internal futures complete on transport threads (gRPC's I/O threads),
     * where a caller's continuation, which may block, must never run.
     */
    <T> CompletableFuture<T> toCaller(CompletableFuture<T> internal) {
        CompletableFuture<T> caller = new CompletableFuture<>();
        internal.whenComplete((value, error) -> runCallback(() -> {
            if (error == null) {
                caller.complete(value);
            } else {
                caller.completeExceptionally(
                        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
            }
        }));
        return caller;
    }

    void runCallback(Runnable task) {
        try {
            callbacks.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            task.run();
        }
    }

    /** Timers waiting on the client's timer thread (for tests: they must not pile up). */
    int pendingTimers() {
        return ((java.util.concurrent.ScheduledThreadPoolExecutor) scheduler)
                .getQueue()
                .size();
    }

    /** Runs the task after the delay on the client's timer thread; null if the client is closed. */
    java.util.concurrent.ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
        try {
            return scheduler.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            return null; // the client is closed; nothing more to do
        }
    }

    // ------------------------------------------------------------------------------ events

    private void onEvent(Event event) {
        if (event instanceof Event.Granted g) {
            PendingWait<?> p = pending.get(g.seq());
            if (p != null) {
                p.granted(g.name(), g.token());
            } else if (!leases.containsKey(g.token())) {
                giveBack(g.name(), g.token()); // a wait we already gave up on
            }
        } else if (event instanceof Event.WaitTimedOut t) {
            PendingWait<?> p = pending.get(t.seq());
            if (p != null) {
                p.fail(new LockTimeoutException("timed out waiting for " + String.join(", ", p.names)));
            }
        } else if (event instanceof Event.Lost l) {
            RuntimeLease lease = leases.get(l.token());
            if (lease != null) {
                lease.markLost(
                        switch (l.reason()) {
                            case SESSION_EXPIRED -> "the session expired";
                            case LEASE_TIMEOUT -> "its lease timeout passed without renewal";
                            case REVOKED -> "an operator revoked it";
                        });
            }
        } else if (event instanceof Event.SessionExpired) {
            expire("the service expired the session");
        }
    }

    /**
     * Events may have been lost (a reconnection, a new leader): ask for the outcome of every wait
     * and check that every lease is still current.
     */
    private void onGap() {
        if (state != State.OPEN) {
            return;
        }
        for (PendingWait<?> p : new ArrayList<>(pending.values())) {
            if (p.command != null) {
                recheckNow(p);
            }
        }
        for (RuntimeLease lease : new ArrayList<>(leases.values())) {
            transport.isCurrentHolder(lease.name(), lease.fencingToken()).whenComplete((current, error) -> {
                if (Boolean.FALSE.equals(current)) {
                    lease.markLost("it was taken away while this client was disconnected");
                }
            });
        }
    }

    private void expire(String why) {
        if (state != State.OPEN) {
            return;
        }
        state = State.EXPIRED;
        for (RuntimeLease lease : new ArrayList<>(leases.values())) {
            lease.markLost(why);
        }
        failPending(new SessionExpiredException("session " + sessionId + " is gone: " + why));
        transport.unsubscribe(sessionId);
        scheduler.shutdown();
    }

    private void failPending(RuntimeException cause) {
        for (PendingWait<?> p : new ArrayList<>(pending.values())) {
            p.fail(cause);
        }
    }

    // ------------------------------------------------------------------------------ heartbeats

    private long heartbeatInterval() {
        return Math.max(50, options.sessionTtl().toMillis() / 4);
    }

    private void scheduleHeartbeat(long delayMillis) {
        if (state == State.OPEN) {
            schedule(this::heartbeat, delayMillis);
        }
    }

    private void heartbeat() {
        if (state != State.OPEN) {
            return;
        }
        long sent = options.ticker().nanos();
        CompletableFuture<Reply> beat = severed
                ? CompletableFuture.failedFuture(new UnavailableException("cut off"))
                // A member that does not answer within two intervals is given up on for this beat,
                // so the next one goes elsewhere: a leader cut off silently (no reset) must not
                // keep the heartbeats until the TTL is gone.
                : transport
                        .keepAlive(sessionId, Duration.ofMillis(heartbeatInterval() * 2))
                        .orTimeout(heartbeatInterval() * 2 + 100, TimeUnit.MILLISECONDS);
        beat.whenComplete((reply, error) -> {
            if (error == null && reply instanceof Reply.Ok) {
                lastAckNanos = Math.max(lastAckNanos, sent);
                scheduleHeartbeat(heartbeatInterval());
            } else if (error == null && reply instanceof Reply.Failed f && f.code() == ErrorCode.SESSION_EXPIRED) {
                expire("the service no longer knows the session");
            } else if (options.ticker().nanos() - lastAckNanos >= ttlNanos) {
                expire("no heartbeat was acknowledged for a whole TTL (" + options.sessionTtl() + ")");
            } else {
                long left = TimeUnit.NANOSECONDS.toMillis(
                        ttlNanos - (options.ticker().nanos() - lastAckNanos));
                scheduleHeartbeat(Math.max(1, Math.min(100, left)));
            }
        });
    }

    // ------------------------------------------------------------------------------ helpers

    /** "5s", "1500ms": a duration for messages. */
    static String format(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    static long ceilMillis(Duration d) {
        long millis = d.toMillis();
        return d.minusMillis(millis).isZero() ? millis : millis + 1;
    }

    /** The typed exception for a failed reply. */
    static RuntimeException failure(Reply reply) {
        if (reply instanceof Reply.Failed f) {
            return switch (f.code()) {
                case DEADLOCK -> new DeadlockException(f.message(), f.cycle());
                case CONFLICT -> new ConflictException(f.message(), f.currentVersion());
                default -> f.code().toException(f.message());
            };
        }
        return new UnavailableException("unexpected reply " + reply);
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Waits for a future without being interruptible; rethrows its failure as it was. */
    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            throw rethrow(unwrap(e));
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new UnavailableException("request failed: " + t, t);
    }

    private void shutdownThreads() {
        scheduler.shutdownNow();
        callbacks.shutdown();
    }
}
