package io.holdfast.client.internal;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.ErrorCode;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.UnavailableException;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import io.holdfast.model.WaitBackstop;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The acquires a client has sent and not settled yet ({@link PendingWait}), by sequence number:
 * how each is sent, answered, told its grant by an event, asked about again, and withdrawn.
 *
 * <p><b>Guarantees.</b> A wait is registered before its command is sent, because the grant event
 * can arrive before the "queued" reply. Every wait settles: by its reply (granted, busy, refused),
 * by an event (granted, timed out), by a backstop that asks the table for the outcome of the same
 * invocation when no event came, or by a withdrawal when the client gave up without knowing the
 * outcome (then a grant made meanwhile is given back). A grant told by the answer to an acquire
 * sent again is late ({@link RuntimeLease#confirmed()}): confirmed before its caller has it. A
 * caller who asked to wait 3 s hears "unavailable" about a request timeout after 3 s, not after
 * the retry policy's 30 s.
 *
 * <p><b>Does not</b> time waits out itself: the service does, and tells it; the backstop only
 * covers a lost event.
 */
final class Waits {
    private final ClientOptions options;
    private final ClientThreads threads;
    private final ClientSession session;
    private final Requests requests;
    private final LeaseRegistry leases;
    private final Map<Long, PendingWait<?>> pending = new ConcurrentHashMap<>();

    Waits(SessionParts parts, LeaseRegistry leases) {
        this.options = parts.options();
        this.threads = parts.threads();
        this.session = parts.session();
        this.requests = parts.requests();
        this.leases = leases;
    }

    ClientOptions options() {
        return options;
    }

    ClientThreads threads() {
        return threads;
    }

    LeaseRegistry leases() {
        return leases;
    }

    /**
     * Starts an acquire; the wait's future completes with a lease, or null for a busy try. A wait
     * (not a try) that ends without a grant fails with {@link LockTimeoutException}, a wait of
     * zero on a busy lock included.
     */
    PendingWait<Lease> acquire(LeaseRequest r, AcquireOptions o, long owner, boolean tryOnly) {
        session.ensureOpen();
        long waitMillis = tryOnly ? 0 : Replies.ceilMillis(o.waitTime());
        long leaseMillis = o.leaseTimeout() == null ? 0 : o.leaseTimeout().toMillis();
        Command.Invocation inv = requests.begin();
        PendingWait<Lease> p = new PendingWait<>(
                this, inv.seq(), List.of(r), leaseMillis, tryOnly, granted -> granted.get(0), span(r.name()));
        send(
                p,
                new Command.Acquire(
                        inv, r.name(), r.mode(), r.permits(), r.maxPermits(), owner, waitMillis, leaseMillis),
                waitMillis,
                tryOnly);
        return p;
    }

    /**
     * Starts a multi-lock: one command for every name, granted all at once by the service; the
     * wait's future completes with a lease per name (in the order of the sorted names), or null
     * for a busy try (a wait fails with {@link LockTimeoutException}).
     */
    PendingWait<List<Lease>> acquireAll(
            List<String> sortedNames, LockMode mode, AcquireOptions o, long owner, boolean tryOnly) {
        session.ensureOpen();
        long waitMillis = tryOnly ? 0 : Replies.ceilMillis(o.waitTime());
        long leaseMillis = o.leaseTimeout() == null ? 0 : o.leaseTimeout().toMillis();
        Command.Invocation inv = requests.begin();
        List<LeaseRequest> each = sortedNames.stream()
                .map(name -> new LeaseRequest(name, mode, 1, 1))
                .toList();
        PendingWait<List<Lease>> p =
                new PendingWait<>(this, inv.seq(), each, leaseMillis, tryOnly, List::copyOf, span(sortedNames.get(0)));
        send(p, new Command.AcquireAll(inv, sortedNames, mode, owner, waitMillis, leaseMillis), waitMillis, tryOnly);
        return p;
    }

    /** An acquire's span, a child of the current one: it ends when the wait settles. */
    private Span span(String name) {
        return requests.tracing().start(SpanName.ACQUIRE.text(), name);
    }

    /**
     * Sends an acquire's command for its wait, which is settled by the reply, an event or a
     * backstop; in the wait's span, which the command's calls carry to the service.
     */
    private void send(PendingWait<?> p, Command command, long waitMillis, boolean tryOnly) {
        try (Scope ignored = Spans.current(p.span)) {
            sendInSpan(p, command, waitMillis, tryOnly);
        }
    }

    private void sendInSpan(PendingWait<?> p, Command command, long waitMillis, boolean tryOnly) {
        pending.put(p.seq, p);
        p.command = command;
        AtomicBoolean answered = new AtomicBoolean();
        // While the service cannot be reached the send is retried, but never past the wait. A try
        // rides out two request timeouts, enough for a leader election.
        long noAnswerMillis = (tryOnly ? options.requestTimeout().toMillis() : waitMillis)
                + options.requestTimeout().toMillis();
        ScheduledFuture<?> noAnswer = threads.schedule(
                () -> {
                    if (!answered.get()) {
                        p.cancel(new UnavailableException("the service did not answer within the wait of "
                                + waitMillis + " ms (and a request timeout of "
                                + options.requestTimeout().toMillis() + " ms)"));
                    }
                },
                noAnswerMillis);
        CompletableFuture<Void> events = requests.eventsReady();
        CompletableFuture<Reply> sent = events.isDone()
                ? requests.call(command, p::sendingAgain)
                // the stream's start completes it under the stream's lock: send from another thread,
                // in this thread's trace context (the wait's span)
                : events.thenComposeAsync(
                        v -> requests.call(command, p::sendingAgain),
                        Context.current().wrap((Executor) threads.timers()));
        sent.whenComplete((reply, error) -> {
            answered.set(true);
            if (noAnswer != null) {
                noAnswer.cancel(false);
            }
            try {
                if (error != null) {
                    p.cancel(Replies.unwrap(error)); // it may have been queued, or granted: withdraw it
                } else {
                    onReply(p, command, reply, waitMillis);
                }
            } catch (RuntimeException | Error e) {
                p.cancel(e); // never leave a caller waiting on a wait nobody will settle
            }
        });
    }

    private void onReply(PendingWait<?> p, Command command, Reply reply, long waitMillis) {
        reply.accept(new Reply.Visitor<Void>() {
            @Override
            public Void granted(Reply.Granted r) {
                p.grant(r.token());
                return null;
            }

            @Override
            public Void grantedAll(Reply.GrantedAll r) {
                p.grant(r.tokens());
                return null;
            }

            @Override
            public Void busy(Reply.Busy r) {
                p.busy();
                return null;
            }

            @Override
            public Void queued(Reply.Queued r) {
                p.queued(requests.tracing());
                // The service times the wait out; this is only a backstop for a lost event.
                scheduleAsk(
                        p,
                        command,
                        1,
                        WaitBackstop.firstAskMillis(
                                waitMillis, options.sessionTtl().toMillis()));
                return null;
            }

            @Override
            public Void failed(Reply.Failed r) {
                if (r.code() == ErrorCode.UNAVAILABLE) {
                    p.cancel(Replies.failure(r)); // the reply was lost on the way: the outcome is unknown
                } else {
                    p.fail(Replies.failure(r));
                }
                return null;
            }

            @Override
            public Void ok(Reply.Ok r) {
                return unexpected(r);
            }

            @Override
            public Void written(Reply.Written r) {
                return unexpected(r);
            }

            @Override
            public Void counted(Reply.Counted r) {
                return unexpected(r);
            }

            @Override
            public Void transacted(Reply.Transacted r) {
                return unexpected(r);
            }

            private Void unexpected(Reply r) {
                p.fail(Replies.failure(r)); // an acquire is never answered so: a fault, told to the caller
                return null;
            }
        });
    }

    /** Schedules an ask for a queued wait's outcome after {@code delay} ms (none if negative); false if none. */
    private boolean scheduleAsk(PendingWait<?> p, Command command, int ask, long delay) {
        if (delay < 0) {
            return false;
        }
        p.backstop(threads.schedule(() -> recheck(p, command, ask), delay));
        return true;
    }

    /**
     * No grant or timeout arrived in time: ask the table for the outcome of the same invocation
     * (ask number {@code ask} of the {@link WaitBackstop} rule).
     */
    private void recheck(PendingWait<?> p, Command command, int ask) {
        if (p.isSettled() || !session.isOpen()) {
            return;
        }
        p.sendingAgain();
        requests.call(command).whenComplete((reply, error) -> {
            if (error == null && reply instanceof Reply.Queued) {
                if (!scheduleAsk(p, command, ask + 1, WaitBackstop.nextAskMillis(ask))) {
                    p.cancel(new LockTimeoutException("timed out waiting for " + String.join(", ", p.names())));
                }
            } else if (error == null) {
                onReply(p, command, reply, 0);
            } else {
                p.cancel(Replies.unwrap(error));
            }
        });
    }

    /** Events may have been lost: asks for the outcome of every wait. */
    void recheckAll() {
        for (PendingWait<?> p : new ArrayList<>(pending.values())) {
            if (p.command != null) {
                recheckNow(p);
            }
        }
    }

    /**
     * Re-sends a queued acquire's invocation: the table answers with its outcome so far. A grant
     * it remembers may have been lost since (revoked, timed out) while events were not reaching
     * us: it is late, and confirmed before it is handed out ({@link PendingWait#sendingAgain}).
     */
    private void recheckNow(PendingWait<?> p) {
        if (p.isSettled() || !session.isOpen()) {
            return;
        }
        p.sendingAgain();
        requests.call(p.command).whenComplete((reply, error) -> {
            if (error == null && !(reply instanceof Reply.Queued)) {
                onReply(p, p.command, reply, 0);
            }
        });
    }

    /** A grant told by an event: to its wait, or given back if nobody waits for it any more. */
    void onGranted(Event.Granted g) {
        PendingWait<?> p = pending.get(g.seq());
        if (p != null) {
            p.granted(g.name(), g.token());
        } else if (!leases.holds(g.token())) {
            leases.giveBack(g.name(), g.token()); // a wait we already gave up on
        }
    }

    void onTimedOut(Event.WaitTimedOut t) {
        PendingWait<?> p = pending.get(t.seq());
        if (p != null) {
            p.fail(new LockTimeoutException("timed out waiting for " + String.join(", ", p.names())));
        }
    }

    /**
     * Withdraws a wait the client gave up on without knowing its outcome (cancelled, no answer, a
     * lost reply). The wait's number stays outstanding until the service answers, so that the
     * table still remembers a grant that was made meanwhile and reports it; that grant is then
     * given back. Sent again in the background until the service answers.
     *
     * @return the first attempt's outcome
     */
    CompletableFuture<Reply> withdraw(PendingWait<?> p) {
        if (!session.isOpen() || session.isSevered()) {
            requests.end(p.seq); // the session's end takes the wait off the queue
            return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        }
        return requests.untilKnown(inv -> new Command.CancelWait(inv, p.name(), p.seq), reply -> {
            requests.end(p.seq);
            List<Long> tokens = reply.grantedTokens();
            for (int i = 0; i < tokens.size(); i++) {
                leases.giveBack(p.requests.get(i).name(), tokens.get(i));
            }
        });
    }

    /**
     * The wait is over for its caller. Its number ends here unless it is being withdrawn: then the
     * withdrawal ends it when the service has answered ({@link #withdraw}).
     */
    void settled(PendingWait<?> p, boolean withdrawing) {
        pending.remove(p.seq, p);
        if (!withdrawing) {
            requests.end(p.seq);
        }
    }

    /** Fails every wait (the session is gone or the client closed). */
    void failAll(RuntimeException cause) {
        for (PendingWait<?> p : new ArrayList<>(pending.values())) {
            p.fail(cause);
        }
    }
}
