package io.holdfast.endpoint;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.holdfast.PermissionDeniedException;
import io.holdfast.UnavailableException;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.EventMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Events} streams of {@link HoldfastGrpcService}. A stream carries one session, or
 * several of the caller's (a <em>shared</em> stream, at most {@link #MAX_SESSIONS}); a session has
 * at most one stream. Each session subscribes to the backend and gets {@code started} once
 * subscribed, then every event, and {@code gap} whenever the backend reports one (or an event
 * cannot be encoded).
 *
 * <p>A session leaves its stream when a newer stream of it opens, or when the backend ends its
 * subscription ({@link LockService.Listener#onEnd}); a stream is completed when its last session
 * left because of a newer stream, and ends with the status of the backend's cause otherwise (a
 * {@link io.holdfast.model.NotLeaderException} names the leader to go to). A shared stream also
 * lets go of a session once it sent that session's {@code session_expired}, or once the caller
 * closed the session through this member ({@link #sessionClosed}): the client cannot cancel one
 * session of a shared call. When the client cancels a call, the backend subscriptions of its
 * sessions are dropped, except those a newer stream has taken over. If the backend's {@code
 * subscribe} throws for any session, the whole stream ends with that exception's status.
 *
 * <p><b>Does not</b> drop a shared stream's session that the caller closed through another member
 * or the HTTP API: it stays subscribed, receiving nothing, until the stream ends.
 */
final class EventStreams {
    private static final Logger LOG = LoggerFactory.getLogger(EventStreams.class);

    /** The most sessions one stream may carry. */
    static final int MAX_SESSIONS = 10_000;

    private final LockService backend;
    /** The current subscription of each session; guarded by itself, which also orders (un)subscribing. */
    private final Map<String, Subscription> streams = new HashMap<>();

    EventStreams(LockService backend) {
        this.backend = backend;
    }

    /** Opens the stream of {@code sessionId} for {@code identity}, or ends it with the reason why not. */
    void open(String sessionId, String identity, StreamObserver<EventMessage> observer) {
        open(sessionId.isEmpty() ? List.of() : List.of(sessionId), false, identity, observer);
    }

    /**
     * Opens one stream for the sessions of {@code sessionIds} (several, or one on a stream that
     * asked with {@code session_ids}), or ends it with the reason why not.
     */
    void open(List<String> sessionIds, boolean shared, String identity, StreamObserver<EventMessage> observer) {
        String invalid = invalid(sessionIds);
        if (invalid != null) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription(invalid).asRuntimeException());
            return;
        }
        for (String id : sessionIds) {
            if (!backend.mayUseSession(identity, id)) {
                observer.onError(GrpcErrors.toStatus(notYours(id, identity)));
                return;
            }
        }
        ServerCallStreamObserver<EventMessage> call = (ServerCallStreamObserver<EventMessage>) observer;
        Outlet out = new Outlet(call, shared || sessionIds.size() > 1);
        call.setOnCancelHandler(() -> cancelled(out));
        List<Subscription> replaced = new ArrayList<>();
        synchronized (streams) {
            // The outlet's lock is held until every `started` is out, so that events the backend
            // delivers at once wait behind them.
            synchronized (out) {
                List<Subscription> subscribed = new ArrayList<>();
                for (String id : sessionIds) {
                    Subscription sub = new Subscription(id, out);
                    try {
                        backend.subscribe(id, sub);
                    } catch (RuntimeException e) {
                        // The whole stream fails: the sessions it took from nobody are dropped.
                        for (Subscription taken : subscribed) {
                            if (streams.remove(taken.sessionId, taken)) {
                                drop(taken.sessionId);
                            }
                        }
                        out.end(e);
                        break;
                    }
                    out.sessions.add(id);
                    subscribed.add(sub);
                    Subscription old = streams.put(id, sub);
                    if (old != null) {
                        replaced.add(old);
                    }
                    out.send(Convert.started(id));
                }
            }
        }
        // Outside the map's lock: the older streams lost these sessions at the backend either way.
        for (Subscription old : replaced) {
            old.out.leave(old.sessionId, null);
        }
    }

    /** Why these sessions cannot have a stream, or null if they can. */
    private static String invalid(List<String> sessionIds) {
        if (sessionIds.isEmpty()) {
            return "events need a session id";
        }
        if (sessionIds.size() > MAX_SESSIONS) {
            return "one event stream carries at most " + MAX_SESSIONS + " sessions, not " + sessionIds.size();
        }
        Set<String> seen = new HashSet<>();
        for (String id : sessionIds) {
            if (id.isEmpty()) {
                return "events need a session id, and one of the stream's is empty";
            }
            if (!seen.add(id)) {
                return "the session " + id + " is named twice in one event stream";
            }
        }
        return null;
    }

    /** The refusal of a session that belongs to another identity than {@code identity}. */
    static PermissionDeniedException notYours(String sessionId, String identity) {
        return new PermissionDeniedException("session " + sessionId + " belongs to another identity than "
                + (identity == null ? "an unauthenticated client" : identity));
    }

    /**
     * The caller closed {@code sessionId} through this member: a shared stream lets go of it (a
     * stream of its own is cancelled by its client).
     */
    void sessionClosed(String sessionId) {
        Subscription sub;
        synchronized (streams) {
            sub = streams.get(sessionId);
            if (sub == null || !sub.out.shared) {
                return;
            }
            streams.remove(sessionId);
            drop(sessionId);
        }
        sub.out.leave(sessionId, null);
    }

    /** The client went away (or the call was cancelled): drop the subscriptions still its own. */
    private void cancelled(Outlet out) {
        List<String> ids = out.close();
        synchronized (streams) {
            for (String id : ids) {
                Subscription sub = streams.get(id);
                if (sub != null && sub.out == out) {
                    streams.remove(id);
                    drop(id);
                }
            }
        }
    }

    /** Drops the backend subscription of a session; called with the map's lock held. */
    private void drop(String sessionId) {
        try {
            backend.unsubscribe(sessionId);
        } catch (RuntimeException e) {
            LOG.warn("unsubscribing session " + sessionId + " failed", e);
        }
    }

    /** Ends every stream with {@code UNAVAILABLE} and drops their backend subscriptions. */
    void endAll() {
        Set<Outlet> ended = new LinkedHashSet<>();
        synchronized (streams) {
            for (Map.Entry<String, Subscription> e : streams.entrySet()) {
                ended.add(e.getValue().out);
                drop(e.getKey());
            }
            streams.clear();
        }
        for (Outlet out : ended) {
            out.end(Status.UNAVAILABLE
                    .withDescription("the server is shutting down")
                    .asRuntimeException());
        }
    }

    /** The number of sessions with an open stream. */
    int count() {
        synchronized (streams) {
            return streams.size();
        }
    }

    /**
     * One call: its sessions, and the messages written to it one at a time. Locks: the {@code
     * streams} map before an outlet's own, never the other way.
     */
    private static final class Outlet {
        private final ServerCallStreamObserver<EventMessage> call;
        /** Whether the call asked for several sessions, so that sessions leave it one by one. */
        final boolean shared;
        /** The sessions still on this call; guarded by this. */
        final Set<String> sessions = new HashSet<>();

        private boolean closed; // guarded by this

        Outlet(ServerCallStreamObserver<EventMessage> call, boolean shared) {
            this.call = call;
            this.shared = shared;
        }

        synchronized void send(EventMessage message) {
            if (closed) {
                return;
            }
            try {
                call.onNext(message);
            } catch (RuntimeException callGone) {
                closed = true;
                LOG.debug("an event stream ended while sending", callGone);
            }
        }

        /**
         * {@code sessionId} left this call: with {@code why} null because a newer stream took it
         * (or its end was sent), else because the backend ended it. The call ends with the last
         * session: completed, or with the status of {@code why}.
         */
        synchronized void leave(String sessionId, Throwable why) {
            if (!sessions.remove(sessionId) || !sessions.isEmpty()) {
                return;
            }
            if (why == null) {
                complete();
            } else {
                end(why);
            }
        }

        private void complete() {
            if (!closed) {
                closed = true;
                try {
                    call.onCompleted();
                } catch (RuntimeException callGone) {
                    LOG.debug("an event stream ended before completion", callGone);
                }
            }
        }

        synchronized void end(Throwable why) {
            if (!closed) {
                closed = true;
                sessions.clear();
                try {
                    call.onError(GrpcErrors.toStatus(why));
                } catch (RuntimeException callGone) {
                    LOG.debug("an event stream ended before its error", callGone);
                }
            }
        }

        /** The client cancelled: nothing more is sent; returns the sessions the call still carried. */
        synchronized List<String> close() {
            closed = true;
            List<String> left = new ArrayList<>(sessions);
            sessions.clear();
            return left;
        }
    }

    /** One session on a call: the backend's listener for it. */
    private final class Subscription implements LockService.Listener {
        private final String sessionId;
        private final Outlet out;

        Subscription(String sessionId, Outlet out) {
            this.sessionId = sessionId;
            this.out = out;
        }

        @Override
        public void onEvent(Event event) {
            EventMessage message;
            try {
                message = Convert.toProto(event);
            } catch (RuntimeException e) {
                LOG.warn("cannot encode event " + event + "; the client is told of a gap", e);
                message = Convert.gap(sessionId);
            }
            out.send(message);
            if (out.shared && event instanceof Event.SessionExpired) {
                // Nothing more comes for it, and the client cannot cancel one session of the call.
                synchronized (streams) {
                    if (streams.remove(sessionId, this)) {
                        drop(sessionId);
                    }
                }
                out.leave(sessionId, null);
            }
        }

        @Override
        public void onGap() {
            out.send(Convert.gap(sessionId));
        }

        /**
         * The backend ended the subscription (this node shuts down, or a newer subscription took
         * the session): the session leaves the call, which ends with the cause's status if it was
         * the last and still this call's, so a {@link io.holdfast.model.NotLeaderException} sends
         * the client to the leader it names.
         */
        @Override
        public void onEnd(Throwable cause) {
            boolean current;
            synchronized (streams) {
                current = streams.remove(sessionId, this); // the backend has dropped it already
            }
            // Not current: a newer stream took the session, and this one is completed for it.
            out.leave(
                    sessionId,
                    !current
                            ? null
                            : cause != null
                                    ? cause
                                    : new UnavailableException("the lock service ended the event stream"));
        }
    }
}
