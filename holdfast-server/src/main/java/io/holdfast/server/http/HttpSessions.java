package io.holdfast.server.http;

import io.holdfast.ErrorCode;
import io.holdfast.endpoint.ServerTracing;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.InvocationLedger;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import io.holdfast.model.WaitBackstop;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.holdfast.server.node.NodeParts;
import io.holdfast.server.node.RaftLockService;
import io.holdfast.server.node.SessionEvents;
import io.opentelemetry.api.trace.Span;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Sessions and locks for clients that speak only HTTP (another language's client, a script with
 * curl): the node sends their commands to the table and answers each HTTP request once its outcome
 * is known, without holding an HTTP thread while a request waits. {@code docs/protocol.md} is the
 * contract as clients see it.
 *
 * <p><b>Guarantees.</b>
 *
 * <ul>
 *   <li><b>A retried request is answered with its first answer.</b> A request that carries the
 *       client's {@code requestId} is sent with it as the invocation's sequence number (and the
 *       client's {@code ackedBelow}), so a retry, at this member or another, is answered from the
 *       table's memory: the same token, never a second effect. A request without one is numbered
 *       here ({@link InvocationLedger}), above the cluster time in microseconds and above every
 *       number of the session this replica has applied, so that a session whose requests move
 *       between members (or leaders) keeps rising numbers; a retry of it is a new request.
 *   <li><b>A wait survives a leader change.</b> Every member serves these requests (ADR 0003): the
 *       leader itself, another member by forwarding them to the leader. A queued acquire is
 *       answered from {@link SessionEvents}: by the event of the entry that decides it, applied on
 *       this replica, whoever leads when it is decided; the client's request stays where it was
 *       sent. Only a request whose member goes down, or is cut off (its backstop then asks the
 *       leader and is told there is none: {@code NOT_LEADER}), is sent again by the client, with
 *       the same {@code requestId}, at another member, where the table answers from its memory
 *       (granted meanwhile) or the wait goes on (still queued, with its place and deadline).
 *   <li><b>A lost grant is never handed out.</b> A grant (a fresh one, or one the table
 *       remembered for a retry) is answered only if it is still current on this replica when the
 *       answer is made; else {@code LOCK_LOST}: its lease ran out or it was revoked before the
 *       client could know of it.
 * </ul>
 *
 * <p><b>What the HTTP client must do itself:</b> send {@code keepalive} more often than its TTL,
 * renew a grant taken with a lease timeout, read its event stream to learn of losses, and re-send
 * a request whose answer it lost with the same {@code requestId}.
 *
 * <p><b>Does not</b> wait forever for a lost event: a queued acquire that no event decided (a
 * replica cut off) asks the table for the outcome again by the {@link WaitBackstop} rule, and
 * answers {@code UNAVAILABLE} if the table still has it queued after the rule's last ask.
 */
public final class HttpSessions {
    /**
     * Who sends a request, for which session, and which request it is.
     *
     * @param requestId the client's sequence number of the request, or null: the node numbers it
     * @param ackedBelow with a {@code requestId}: every lower number of the session has its answer
     */
    public record Caller(String identity, String sessionId, Long requestId, long ackedBelow) {}

    private final RaftLockService service;
    /** The node's parts this replica answers from: its table, its clock, whether it leads. */
    private final NodeParts parts;

    private final SessionEvents events;
    private final ScheduledExecutorService timer;
    private final Map<String, InvocationLedger> numbers = new ConcurrentHashMap<>();
    private final ServerTracing tracing = ServerTracing.global();

    /** @param timer where a queued acquire's backstop runs (shared with the other HTTP routes, which close it) */
    public HttpSessions(NodeParts parts, ScheduledExecutorService timer) {
        this.service = parts.service();
        this.parts = parts;
        this.events = parts.sessionEvents();
        this.timer = timer;
    }

    /**
     * Opens a session for {@code identity}; completes with its id: {@code requestedId} if given
     * (opening it again with the same settings answers the same), else a new one.
     */
    public CompletableFuture<String> open(
            String identity, String clientName, long ttlMillis, long lockDelayMillis, String requestedId) {
        String id = requestedId != null ? requestedId : SessionIds.newId();
        events.expectOpen(id); // its client reads its stream here: keep its events from its opening
        return submit(new Command.OpenSession(id, clientName, ttlMillis, lockDelayMillis), identity)
                .thenApply(reply -> {
                    if (reply instanceof Reply.Failed f) {
                        throw f.code().toException(f.message());
                    }
                    return id;
                })
                .whenComplete((ok, e) -> {
                    if (e != null) {
                        events.forgetOpen(id); // refused, or not known to be applied
                    }
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

    /** Closes the session at its client's request: everything it holds is released. */
    CompletableFuture<Reply> close(Caller c) {
        return call(c, Command.CloseSession::new).whenComplete((r, e) -> {
            if (r instanceof Reply.Ok) {
                numbers.remove(c.sessionId());
            }
        });
    }

    /**
     * Ends the session as if its heartbeats had stopped (its holders are told, lock-delay
     * applies): the session's own identity or an admin may.
     */
    CompletableFuture<Reply> end(String identity, String sessionId) {
        return submit(new Command.EndSession(sessionId), identity);
    }

    /**
     * Acquires a lock, a read lock or semaphore permits; completes with {@link Reply.Granted}, or
     * {@link Reply.Busy} if it was not free (no wait), or a failure ({@code TIMEOUT} when the wait
     * ran out, {@code LOCK_LOST} when the grant was lost before this answer).
     */
    public CompletableFuture<Reply> acquire(
            Caller c,
            String name,
            io.holdfast.LockMode mode,
            int permits,
            int maxPermits,
            long owner,
            long waitMillis,
            long leaseMillis) {
        return waitable(
                c, inv -> new Command.Acquire(inv, name, mode, permits, maxPermits, owner, waitMillis, leaseMillis));
    }

    /** Acquires every name or none ({@link Command.AcquireAll}); see {@link #acquire}. */
    CompletableFuture<Reply> acquireAll(
            Caller c, List<String> names, io.holdfast.LockMode mode, long owner, long waitMillis, long leaseMillis) {
        return waitable(c, inv -> new Command.AcquireAll(inv, names, mode, owner, waitMillis, leaseMillis));
    }

    /** Gives back the grant with this token. */
    CompletableFuture<Reply> release(Caller c, String name, long token) {
        return call(c, inv -> new Command.Release(inv, name, token));
    }

    /**
     * Renews the lease timeout of a grant acquired with {@code leaseMillis}: the grant is kept for
     * another lease timeout from now. {@code NOT_OWNER} when the session no longer holds it.
     */
    CompletableFuture<Reply> renew(Caller c, String name, long token) {
        return call(c, inv -> new Command.Renew(inv, name, token));
    }

    /**
     * Withdraws the wait of the session's acquire {@code waitSeq}: {@code Ok(1)} if it was queued,
     * {@code Ok(0)} if it had already timed out, the grant if it had been granted.
     */
    CompletableFuture<Reply> cancel(Caller c, String name, long waitSeq) {
        return call(c, inv -> new Command.CancelWait(inv, name, waitSeq)).whenComplete((r, e) -> {
            if (r instanceof Reply.Ok ok && ok.value() > 0) {
                events.withdrawn(c.sessionId(), waitSeq, name); // answers the wait's request, if it waits here
            }
        });
    }

    /** Writes a register if its version is {@code expectedVersion}, and, with a fence, while the grant is current. */
    CompletableFuture<Reply> registerSet(
            Caller c, String key, long expectedVersion, byte[] value, String fenceName, long fenceToken) {
        return call(c, inv -> RegisterSet.keeping(inv, key, expectedVersion, value, fenceName, fenceToken));
    }

    /** A key command of the session (a put, a delete, a counter add, a transaction), numbered as every write is. */
    CompletableFuture<Reply> keys(Caller c, Function<Command.Invocation, Command.ClientCommand> command) {
        return call(c, command::apply);
    }

    /**
     * An acquire that may queue: its outcome is awaited from the session's events (registered
     * before it is sent, so that an event that comes before the reply is not missed), and a grant
     * is answered only while it is current. A number of the node's stays outstanding until the
     * outcome is known, since the outcome may be asked for again with it.
     */
    private CompletableFuture<Reply> waitable(Caller c, Function<Command.Invocation, Command.ClientCommand> build) {
        Span request = Span.current(); // the request's span: its time in the queue is a span inside it
        // The outcome registered before sending is the one awaited: the entry that decides it may
        // be applied before the "queued" reply is handled (the next entry, or the same one), and
        // the outcome is dropped from the events once decided; asking for it again then would wait
        // for an event that has come and gone.
        AtomicReference<CompletableFuture<List<Event>>> registered = new AtomicReference<>();
        return call(
                c,
                inv -> {
                    registered.set(events.outcome(inv.sessionId(), inv.seq()));
                    return build.apply(inv);
                },
                (command, reply) -> {
                    Command.ClientCommand sent = (Command.ClientCommand) command;
                    if (reply instanceof Reply.Queued) {
                        Span queued = tracing.startInside(request, SpanName.ACQUIRE_QUEUED);
                        return Spans.endWhenDone(
                                queued,
                                awaitOutcome(c.identity(), sent, registered.get())
                                        .thenApply(r -> unlessLost(sent, r)));
                    }
                    events.forget(
                            sent.invocation().sessionId(), sent.invocation().seq());
                    return completed(unlessLost(sent, reply));
                },
                command -> {
                    Command.Invocation inv = ((Command.ClientCommand) command).invocation();
                    events.forget(inv.sessionId(), inv.seq());
                });
    }

    /** The outcome of a queued acquire: {@code decided}, registered before it was sent, or the backstop's. */
    private CompletableFuture<Reply> awaitOutcome(
            String identity, Command.ClientCommand command, CompletableFuture<List<Event>> decided) {
        Command.Invocation inv = command.invocation();
        CompletableFuture<Reply> out = decided.thenApply(d -> outcomeOf(command, d));
        long wait = command instanceof Command.Acquire a ? a.waitMillis() : ((Command.AcquireAll) command).waitMillis();
        long ttl = parts.machine().read(t -> t.sessionTtlMillis(inv.sessionId()));
        ScheduledFuture<?> backstop = timer.schedule(
                () -> recheck(identity, command, out, 1),
                WaitBackstop.firstAskMillis(wait, ttl),
                TimeUnit.MILLISECONDS);
        return out.whenComplete((r, e) -> {
            backstop.cancel(false);
            events.forget(inv.sessionId(), inv.seq());
        });
    }

    /**
     * No event decided the wait by its deadline: ask the table, which remembers the outcome (ask
     * {@code ask} of the {@link WaitBackstop} rule).
     */
    private void recheck(String identity, Command command, CompletableFuture<Reply> out, int ask) {
        if (out.isDone()) {
            return;
        }
        service.submit(command, identity).whenComplete((reply, error) -> {
            if (error != null) {
                out.completeExceptionally(error);
            } else if (!(reply instanceof Reply.Queued)) {
                out.complete(reply);
            } else if (WaitBackstop.nextAskMillis(ask) >= 0) {
                timer.schedule(
                        () -> recheck(identity, command, out, ask + 1),
                        WaitBackstop.nextAskMillis(ask),
                        TimeUnit.MILLISECONDS);
            } else {
                out.complete(Reply.Failed.of(
                        ErrorCode.UNAVAILABLE,
                        "the wait's deadline passed and the cluster has not decided it yet; send the same request"
                                + " again"));
            }
        });
    }

    /** The reply the events that decided a queued acquire stand for. */
    private static Reply outcomeOf(Command command, List<Event> decided) {
        List<Long> tokens = new ArrayList<>(decided.size());
        Event.Visitor<Reply> decide = new Event.Visitor<>() {
            @Override
            public Reply granted(Event.Granted e) {
                tokens.add(e.token());
                return null; // one name's grant: the others follow
            }

            @Override
            public Reply waitTimedOut(Event.WaitTimedOut e) {
                return Reply.Failed.of(ErrorCode.TIMEOUT, e.name() + " was not granted within the wait");
            }

            @Override
            public Reply lost(Event.Lost e) {
                throw new IllegalStateException("a loss decides no wait: " + e);
            }

            @Override
            public Reply sessionExpired(Event.SessionExpired e) {
                throw new IllegalStateException("a session's end fails its waits, it does not decide one: " + e);
            }
        };
        for (Event e : decided) {
            Reply timedOut = e.accept(decide);
            if (timedOut != null) {
                return timedOut;
            }
        }
        return command instanceof Command.AcquireAll ? new Reply.GrantedAll(tokens) : new Reply.Granted(tokens.get(0));
    }

    /**
     * A grant as the answer, if this replica still has it current; else {@code LOCK_LOST}: the
     * grant was taken away (lease timeout, revoke, session end) before the client could know of
     * it, which a retried request learns from the table's memory of the grant.
     */
    private Reply unlessLost(Command.ClientCommand command, Reply reply) {
        List<String> names =
                command instanceof Command.AcquireAll all ? all.names() : List.of(((Command.Acquire) command).name());
        List<Long> tokens = reply.grantedTokens();
        for (int i = 0; i < tokens.size() && i < names.size(); i++) {
            String name = names.get(i);
            long token = tokens.get(i);
            if (!parts.machine().read(t -> t.isCurrentHolder(name, token))) {
                return Reply.Failed.of(
                        ErrorCode.LOCK_LOST,
                        names.get(i) + " was granted (token " + tokens.get(i)
                                + ") and lost again (lease timeout, revoke or session end) before this answer");
            }
        }
        return reply;
    }

    /** Sends a command of the request, named so in the request's span ({@link HttpTracing#submitting}). */
    private CompletableFuture<Reply> submit(Command command, String identity) {
        HttpTracing.submitting(command);
        return service.submit(command, identity);
    }

    private static CompletableFuture<Reply> completed(Reply reply) {
        return CompletableFuture.completedFuture(reply);
    }

    /** Numbers a request of the session (the client's number, or one of the node's), and sends it. */
    private CompletableFuture<Reply> call(Caller c, Function<Command.Invocation, Command> command) {
        return call(c, command, (sent, reply) -> completed(reply), sent -> {});
    }

    /**
     * Numbers a request of the session, sends it, and lets {@code then} finish it; {@code failed}
     * is told of a command whose sending failed. A number of the node's stays outstanding until
     * {@code then} has finished.
     */
    private CompletableFuture<Reply> call(
            Caller c,
            Function<Command.Invocation, Command> command,
            java.util.function.BiFunction<Command, Reply, CompletableFuture<Reply>> then,
            java.util.function.Consumer<Command> failed) {
        String sessionId = c.sessionId();
        if (parts.duties().isActive() && !parts.machine().read(t -> t.hasSession(sessionId))) {
            // Checked before anything is remembered for it: made-up ids cost nothing here.
            numbers.remove(sessionId);
            return completed(
                    Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "session " + sessionId + " is unknown or expired"));
        }
        Command.Invocation inv;
        InvocationLedger ledger = null;
        if (c.requestId() != null) {
            inv = new Command.Invocation(sessionId, c.requestId(), c.ackedBelow());
        } else {
            // Above the cluster's time and every number of the session this replica has applied:
            // the session may have come from another member, which numbered its requests there.
            long floor = Math.max(
                    parts.duties().clusterNow() * 1000 + 1, parts.machine().read(t -> t.seqAboveKnown(sessionId)));
            ledger = numbers.computeIfAbsent(sessionId, id -> new InvocationLedger(id, floor));
            inv = ledger.begin(floor);
        }
        InvocationLedger numbered = ledger;
        Command sent = command.apply(inv);
        return submit(sent, c.identity())
                .whenComplete((r, e) -> {
                    if (e != null) {
                        failed.accept(sent);
                    }
                })
                .thenCompose(reply -> then.apply(sent, reply))
                .whenComplete((r, e) -> {
                    if (numbered != null) {
                        numbered.end(inv.seq());
                    }
                });
    }
}
