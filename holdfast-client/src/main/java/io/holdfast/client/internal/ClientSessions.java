package io.holdfast.client.internal;

import io.holdfast.ClientOptions;
import io.holdfast.SessionExpiredException;
import io.holdfast.SessionListener;
import io.holdfast.UnavailableException;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * The sessions of one client, one after another (ADR 0004): the session now ({@link LiveSession}),
 * what happens when it is lost, and the opening of the next.
 *
 * <p><b>Guarantees.</b> When the session is lost (told once by its {@link ClientSession}), its
 * leases are lost and its waits fail with {@link SessionExpiredException}, then the client's
 * listeners are told {@code lost}. Then, if the options ask for renewal and the client is neither
 * closed nor cut off (a simulated crash), a {@link SessionRenewal} opens the next session with a
 * new id; once open, it is the client's and the listeners are told {@code reestablished}. A session
 * that opens after the client was closed is ended at once. Between two sessions {@link #live} waits
 * for the next within the caller's timeout, and {@link #query} reads without a session.
 *
 * <p><b>Does not</b> open the first session (the client does, within its connect timeout), nor
 * carry anything of a lost session into the next: no lease, no wait, no invocation.
 */
final class ClientSessions {
    private final Object client;
    private final LockService transport;
    private final ClientOptions options;
    private final ClientThreads threads;
    private final SessionListener tell;
    private final SessionRenewal renewal;

    /** The session now: the open one, or the one lost last while the next is being opened. */
    private volatile LiveSession current;

    /** Set once, by {@link #close()}; guarded by {@code this} against the hand-over of a new session. */
    private volatile boolean closed;

    /**
     * @param client the client the sessions' leases belong to
     * @param tell the client's way of telling its session listeners
     */
    ClientSessions(
            Object client, LockService transport, ClientOptions options, ClientThreads threads, SessionListener tell) {
        this.client = client;
        this.transport = transport;
        this.options = options;
        this.threads = threads;
        this.tell = tell;
        this.renewal = new SessionRenewal(
                threads, () -> ThreadLocalRandom.current().nextDouble(), this::tryNext, this::renewed);
    }

    /** The first session's parts; the client opens it. */
    LiveSession first(String id) {
        LiveSession first = newSession(id);
        current = first;
        return first;
    }

    /** The session now: the open one, or the one lost last while the next is being opened. */
    LiveSession current() {
        return current;
    }

    /** Whether the client is open: not closed, and with a session or opening the next. */
    boolean isOpen() {
        return !closed && (current.session().isOpen() || renewal.isRenewing());
    }

    /** Whether the client was closed. */
    boolean isClosed() {
        return closed;
    }

    /** Whether reads and watches go on without a session: the client renews and is not closed. */
    boolean readsBetweenSessions() {
        return options.renewSessions() && !closed;
    }

    /** Marks the client closed (the next session is not opened); the session now, or null if it was already. */
    LiveSession close() {
        LiveSession last;
        synchronized (this) {
            if (closed) {
                return null;
            }
            closed = true;
            last = current;
        }
        renewal.stop(new SessionExpiredException("the client was closed"));
        return last;
    }

    /** Behaves as if the process had died: nothing more is sent, no session is opened again. */
    void sever() {
        current.session().sever();
        renewal.stop(new SessionExpiredException("the client is cut off (simulated crash)"));
    }

    /**
     * The open session; between two, the next one within {@code timeout} (failed with {@link
     * io.holdfast.UnavailableException} naming the loss when it passes first). Without renewal, or
     * once closed, the session there is, whose calls fail as a lost session's do.
     */
    CompletableFuture<LiveSession> live(Duration timeout) {
        LiveSession now = current;
        if (now.session().isOpen() || !options.renewSessions() || closed) {
            return CompletableFuture.completedFuture(now);
        }
        CompletableFuture<LiveSession> next = renewal.within(timeout);
        return next == null ? CompletableFuture.completedFuture(current) : next;
    }

    /** A read, retried on unavailability; between two sessions too, if the client renews. */
    <T> CompletableFuture<T> query(Function<LockService, CompletableFuture<T>> read) {
        LiveSession now = current;
        if (!readsBetweenSessions()) {
            return now.requests().query(read);
        }
        CompletableFuture<T> answer = now.requests().read(read);
        if (!now.session().isOpen()) {
            answer.whenComplete((value, error) -> {
                if (error == null) {
                    renewal.tryNow(); // the service answers: it is back
                }
            });
        }
        return answer;
    }

    /** The command that opens session {@code id}. */
    Command openCommand(String id) {
        return new Command.OpenSession(
                id,
                options.clientName(),
                options.sessionTtl().toMillis(),
                options.lockDelay().toMillis());
    }

    /** A new session's parts; its events subscribed to by its first acquire ({@link Requests#eventsReady}). */
    private LiveSession newSession(String id) {
        LiveSession session = LiveSession.create(id, client, transport, options, threads, why -> expired(id, why));
        session.requests().subscribeOnFirstAcquire(() -> subscribe(session));
        return session;
    }

    /** The session's events go to its parts. */
    private CompletableFuture<Void> subscribe(LiveSession session) {
        return transport.subscribeAsync(session.id(), new LockService.Listener() {
            @Override
            public void onEvent(Event event) {
                event.accept(session.events());
            }

            /**
             * Events may have been lost (a reconnection, a new leader): ask for the outcome of
             * every wait and check that every lease is still current.
             */
            @Override
            public void onGap() {
                if (session.session().isOpen()) {
                    session.waits().recheckAll();
                    session.leases().checkAll();
                }
            }
        });
    }

    /**
     * One try of {@link SessionRenewal}: a new session, new id, opened with one request, given up
     * if unanswered for a TTL (a member that accepts connections while it starts may hold it that
     * long; a session it opens after all expires there unused).
     */
    private CompletableFuture<LiveSession> tryNext() {
        LiveSession next = newSession(SessionIds.newId());
        long sent = options.ticker().nanos();
        CompletableFuture<Reply> answer = next.requests().once(openCommand(next.id()));
        ScheduledFuture<?> giveUp = threads.scheduleNanos(
                () -> answer.completeExceptionally(
                        new UnavailableException("no answer to the opening of a session within its TTL")),
                options.sessionTtl().toNanos());
        if (giveUp != null) {
            answer.whenComplete((reply, error) -> giveUp.cancel(false));
        }
        return answer.thenApply(reply -> {
                    if (!(reply instanceof Reply.Ok)) {
                        throw Replies.failure(reply);
                    }
                    next.session().opened(sent);
                    return next;
                })
                .whenComplete((opened, error) -> {
                    if (error != null) {
                        transport.unsubscribe(next.id());
                    }
                });
    }

    /** The next session is open: it is the client's now, unless the client was closed meanwhile. */
    private boolean renewed(LiveSession next) {
        synchronized (this) {
            if (!closed) {
                current = next;
                tell.reestablished(next.id());
                return true;
            }
        }
        next.session().close();
        transport.submit(new Command.CloseSession(next.requests().begin()));
        transport.unsubscribe(next.id());
        return false;
    }

    /**
     * Session {@code id} expired (told once by its {@link ClientSession}): its leases and waits go
     * with it, the listeners are told, and the next session is opened if the client renews.
     */
    private void expired(String id, String why) {
        LiveSession session = current;
        if (!session.id().equals(id)) {
            return; // not the client's session (a try of a renewal that was never handed over)
        }
        boolean renew = options.renewSessions() && !closed && !session.session().isSevered();
        if (renew) {
            renewal.expect(why); // so that what the loss fails finds the client open, and waits for the next
        }
        session.leases().loseAll(why);
        session.waits().failAll(new SessionExpiredException("session " + id + " is gone: " + why));
        transport.unsubscribe(id);
        tell.lost(id, why);
        if (renew) {
            renewal.start();
        } else {
            threads.stopTimers();
        }
    }
}
