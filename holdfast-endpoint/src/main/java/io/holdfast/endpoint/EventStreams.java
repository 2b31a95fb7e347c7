package io.holdfast.endpoint;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.holdfast.PermissionDeniedException;
import io.holdfast.UnavailableException;
import io.holdfast.model.LockService;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.EventMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Events} streams of {@link HoldfastGrpcService}, one per session. A stream subscribes
 * to the backend for its session and sends {@code started} once subscribed, then every event, and
 * {@code gap} whenever the backend reports one (or an event cannot be encoded). A newer stream of a
 * session replaces the older, which is completed. When the client cancels, the backend
 * subscription is dropped, unless a newer stream has taken it over. If the backend's {@code
 * subscribe} throws (a follower refusing with {@link io.holdfast.model.NotLeaderException}), or the
 * backend later ends the subscription ({@link LockService.Listener#onEnd}), the stream ends with
 * the status of that exception, so the client goes to the leader it names.
 */
final class EventStreams {
    private static final Logger LOG = LoggerFactory.getLogger(EventStreams.class);

    private final LockService backend;
    /** The current stream of each session; guarded by itself, which also orders (un)subscribing. */
    private final Map<String, Subscription> streams = new HashMap<>();

    EventStreams(LockService backend) {
        this.backend = backend;
    }

    /** Opens the stream of {@code sessionId} for {@code identity}, or ends it with the reason why not. */
    void open(String sessionId, String identity, StreamObserver<EventMessage> observer) {
        if (sessionId.isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT
                    .withDescription("events need a session id")
                    .asRuntimeException());
            return;
        }
        if (!backend.mayUseSession(identity, sessionId)) {
            observer.onError(GrpcErrors.toStatus(notYours(sessionId, identity)));
            return;
        }
        ServerCallStreamObserver<EventMessage> out = (ServerCallStreamObserver<EventMessage>) observer;
        Subscription sub = new Subscription(sessionId, out);
        out.setOnCancelHandler(() -> cancelled(sub));
        Subscription replaced;
        synchronized (streams) {
            // The subscription's lock is held until `started` is out, so that events the backend
            // delivers at once wait behind it.
            synchronized (sub) {
                try {
                    backend.subscribe(sessionId, sub);
                } catch (RuntimeException e) {
                    sub.end(e);
                    return;
                }
                replaced = streams.put(sessionId, sub);
                sub.send(Convert.started(sessionId));
            }
        }
        if (replaced != null) {
            replaced.complete();
        }
    }

    /** The refusal of a session that belongs to another identity than {@code identity}. */
    static PermissionDeniedException notYours(String sessionId, String identity) {
        return new PermissionDeniedException("session " + sessionId + " belongs to another identity than "
                + (identity == null ? "an unauthenticated client" : identity));
    }

    /** The client went away (or the call was cancelled): drop the backend subscription if still ours. */
    private void cancelled(Subscription sub) {
        sub.close();
        synchronized (streams) {
            if (streams.remove(sub.sessionId, sub)) {
                try {
                    backend.unsubscribe(sub.sessionId);
                } catch (RuntimeException e) {
                    LOG.warn("unsubscribing session " + sub.sessionId + " failed", e);
                }
            }
        }
    }

    /** Ends every stream with {@code UNAVAILABLE} and drops their backend subscriptions. */
    void endAll() {
        List<Subscription> ended;
        synchronized (streams) {
            ended = new ArrayList<>(streams.values());
            streams.clear();
            for (Subscription sub : ended) {
                try {
                    backend.unsubscribe(sub.sessionId);
                } catch (RuntimeException e) {
                    LOG.warn("unsubscribing session " + sub.sessionId + " failed", e);
                }
            }
        }
        for (Subscription sub : ended) {
            sub.end(Status.UNAVAILABLE
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
     * One session's stream: the backend's listener, writing to the call one message at a time.
     * Locks: the {@code streams} map before a subscription's own, never the other way.
     */
    private final class Subscription implements LockService.Listener {
        private final String sessionId;
        private final ServerCallStreamObserver<EventMessage> out;
        private boolean closed; // guarded by this

        Subscription(String sessionId, ServerCallStreamObserver<EventMessage> out) {
            this.sessionId = sessionId;
            this.out = out;
        }

        @Override
        public synchronized void onEvent(io.holdfast.model.Event event) {
            EventMessage message;
            try {
                message = Convert.toProto(event);
            } catch (RuntimeException e) {
                LOG.warn("cannot encode event " + event + "; the client is told of a gap", e);
                message = Convert.gap(sessionId);
            }
            send(message);
        }

        @Override
        public synchronized void onGap() {
            send(Convert.gap(sessionId));
        }

        /**
         * The backend ended the subscription (this node stopped leading, or shuts down): the stream
         * ends with the status of the cause, so a {@link io.holdfast.model.NotLeaderException}
         * sends the client to the leader it names.
         */
        @Override
        public void onEnd(Throwable cause) {
            synchronized (streams) {
                streams.remove(sessionId, this); // the backend has dropped it already
            }
            end(cause != null ? cause : new UnavailableException("the lock service ended the event stream"));
        }

        synchronized void send(EventMessage message) {
            if (closed) {
                return;
            }
            try {
                out.onNext(message);
            } catch (RuntimeException callGone) {
                closed = true;
                LOG.debug("event stream of a session ended while sending", callGone);
            }
        }

        /** Replaced by a newer stream of the same session. */
        synchronized void complete() {
            if (!closed) {
                closed = true;
                try {
                    out.onCompleted();
                } catch (RuntimeException callGone) {
                    LOG.debug("event stream ended before completion", callGone);
                }
            }
        }

        synchronized void end(Throwable why) {
            if (!closed) {
                closed = true;
                try {
                    out.onError(GrpcErrors.toStatus(why));
                } catch (RuntimeException callGone) {
                    LOG.debug("event stream ended before its error", callGone);
                }
            }
        }

        synchronized void close() {
            closed = true;
        }
    }
}
