package io.holdfast.server;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.core.Command;
import io.holdfast.core.Event;
import io.holdfast.core.InvocationLedger;
import io.holdfast.core.LockService;
import io.holdfast.core.Reply;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Sessions and locks for clients that speak only HTTP (a shell script with curl, a language without
 * a Holdfast client): the node plays the part of the client runtime for them. It numbers each
 * session's requests, waits for queued acquires, and answers each HTTP request once its outcome is
 * known, without holding an HTTP thread while a request waits.
 *
 * <p><b>What the HTTP client must do itself:</b> send {@code keepalive} more often than its TTL,
 * and {@code renew} more often than the lease timeout of a grant acquired with one (nothing does
 * either for it), and treat a lost answer as "maybe": a request whose answer did not
 * arrive may or may not have been applied (describe the lock to find out).
 *
 * <p>Request numbers: a session's requests through this node get increasing sequence numbers
 * starting above the cluster time in microseconds when the node first sees the session, so that a
 * new leader never reuses a number an older one gave (cluster time never goes back across
 * leaders), and every number below the lowest one still in flight is acknowledged, so the table
 * forgets those replies: the client runtime's rule, from the same {@link InvocationLedger}.
 *
 * <p>Waiting: an acquire that queues is answered when its grant or its timeout arrives as an event
 * of the session (this node subscribes to the events of sessions opened through it), and, should
 * the event be lost (a leader change), when the invocation re-sent after the wait's deadline
 * returns the outcome the table remembered.
 */
final class HttpSessions implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long after a wait's deadline the outcome is asked for again, if no event came. */
    private static final long DEADLINE_SLACK_MILLIS = 500;

    private final RaftLockService service;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "holdfast-http-sessions");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, InvocationLedger> numbers = new ConcurrentHashMap<>();
    /** Queued acquires waiting for their outcome: session id + seq. */
    private final Map<String, CompletableFuture<Reply>> waiting = new ConcurrentHashMap<>();

    HttpSessions(RaftLockService service) {
        this.service = service;
    }

    /** Opens a session for {@code identity}; completes with its id. */
    CompletableFuture<String> open(String identity, String clientName, long ttlMillis) {
        byte[] raw = new byte[16];
        RANDOM.nextBytes(raw);
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        return service.submit(new Command.OpenSession(id, clientName, ttlMillis, 0), identity)
                .thenApply(reply -> {
                    if (reply instanceof Reply.Failed f) {
                        throw f.code().toException(f.message());
                    }
                    subscribe(id);
                    return id;
                });
    }

    /** A heartbeat for the session. */
    CompletableFuture<Reply> keepAlive(String identity, String sessionId) {
        if (!service.mayUseSession(identity, sessionId)) {
            return CompletableFuture.completedFuture(Reply.Failed.of(
                    ErrorCode.PERMISSION_DENIED, "session " + sessionId + " belongs to another identity"));
        }
        return service.keepAlive(sessionId);
    }

    /** Closes the session: everything it holds is released. */
    CompletableFuture<Reply> close(String identity, String sessionId) {
        return call(identity, sessionId, inv -> new Command.CloseSession(inv)).whenComplete((r, e) -> {
            if (r instanceof Reply.Ok) {
                numbers.remove(sessionId);
                service.unsubscribe(sessionId);
            }
        });
    }

    /**
     * Acquires a lock; completes with {@link Reply.Granted}, or {@link Reply.Busy} if it was not free
     * (no wait), or a failure ({@code TIMEOUT} when the wait ran out).
     */
    CompletableFuture<Reply> acquire(
            String identity, String sessionId, String name, LockMode mode, long waitMillis, long leaseMillis) {
        return call(
                identity,
                sessionId,
                inv -> new Command.Acquire(inv, name, mode, 1, 1, 0, waitMillis, leaseMillis),
                (inv, reply) -> reply instanceof Reply.Queued
                        ? awaitOutcome(identity, inv, name, mode, waitMillis, leaseMillis)
                        : CompletableFuture.completedFuture(reply));
    }

    /** Gives back the grant with this token. */
    CompletableFuture<Reply> release(String identity, String sessionId, String name, long token) {
        return call(identity, sessionId, inv -> new Command.Release(inv, name, token));
    }

    /**
     * Renews the lease timeout of a grant acquired with {@code leaseMillis}: the grant is kept for
     * another lease timeout from now. {@code NOT_OWNER} when the session no longer holds it.
     */
    CompletableFuture<Reply> renew(String identity, String sessionId, String name, long token) {
        return call(identity, sessionId, inv -> new Command.Renew(inv, name, token));
    }

    private CompletableFuture<Reply> awaitOutcome(
            String identity, Command.Invocation inv, String name, LockMode mode, long waitMillis, long leaseMillis) {
        String key = inv.sessionId() + '/' + inv.seq();
        CompletableFuture<Reply> outcome = new CompletableFuture<>();
        waiting.put(key, outcome);
        // If no event tells us first (a new leader, a lost event), ask the table for what it remembered.
        var check = timer.schedule(
                () -> service.submit(new Command.Acquire(inv, name, mode, 1, 1, 0, waitMillis, leaseMillis), identity)
                        .whenComplete((reply, error) -> {
                            if (error != null) {
                                outcome.completeExceptionally(error);
                            } else if (reply instanceof Reply.Queued) {
                                outcome.complete(Reply.Failed.of(
                                        ErrorCode.UNAVAILABLE,
                                        "the wait's outcome is not known yet; describe the lock"));
                            } else {
                                outcome.complete(reply);
                            }
                        }),
                waitMillis + DEADLINE_SLACK_MILLIS,
                TimeUnit.MILLISECONDS);
        return outcome.whenComplete((r, e) -> {
            waiting.remove(key);
            check.cancel(false);
        });
    }

    private void subscribe(String sessionId) {
        try {
            service.subscribe(sessionId, new LockService.Listener() {
                @Override
                public void onEvent(Event event) {
                    CompletableFuture<Reply> pending = null;
                    Reply reply = null;
                    if (event instanceof Event.Granted g) {
                        pending = waiting.get(g.sessionId() + '/' + g.seq());
                        reply = new Reply.Granted(g.token());
                    } else if (event instanceof Event.WaitTimedOut t) {
                        pending = waiting.get(t.sessionId() + '/' + t.seq());
                        reply = Reply.Failed.of(ErrorCode.TIMEOUT, t.name() + " was not granted within the wait");
                    } else if (event instanceof Event.SessionExpired) {
                        numbers.remove(sessionId);
                    }
                    if (pending != null) {
                        pending.complete(reply);
                    }
                }
            });
        } catch (RuntimeException e) {
            // Not the leader any more: waits are answered by re-sending after their deadline.
        }
    }

    private CompletableFuture<Reply> call(
            String identity, String sessionId, java.util.function.Function<Command.Invocation, Command> command) {
        return call(identity, sessionId, command, (inv, reply) -> CompletableFuture.completedFuture(reply));
    }

    /** Numbers a request of the session, sends it, and lets {@code then} finish it. */
    private CompletableFuture<Reply> call(
            String identity,
            String sessionId,
            java.util.function.Function<Command.Invocation, Command> command,
            java.util.function.BiFunction<Command.Invocation, Reply, CompletableFuture<Reply>> then) {
        if (!service.hasSession(sessionId)) {
            // Checked before anything is remembered for it: made-up ids cost nothing here.
            numbers.remove(sessionId);
            return CompletableFuture.completedFuture(
                    Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "session " + sessionId + " is unknown or expired"));
        }
        InvocationLedger ledger = numbers.computeIfAbsent(
                sessionId, id -> new InvocationLedger(id, service.clusterNowMillis() * 1000 + 1));
        Command.Invocation inv = ledger.begin();
        return service.submit(command.apply(inv), identity)
                .thenCompose(reply -> then.apply(inv, reply))
                .whenComplete((r, e) -> ledger.end(inv.seq()));
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
