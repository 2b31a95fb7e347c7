package io.holdfast.server.node;

import io.holdfast.UnavailableException;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Event;
import io.holdfast.model.LockService.Listener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Delivers the events the table emits to the subscriber of their session on this node.
 *
 * <p><b>Guarantees.</b> Events reach a listener in the order the table emitted them, on one
 * thread of this node's own (never the apply thread, so a slow subscriber cannot hold up the
 * log). A session has at most one listener: a new subscription ends the old one. Every member
 * delivers, leader or not, so a change of leader ends nothing (ADR 0003); {@link #endAll} ends
 * every subscription with an error when the node shuts down, so clients move to another member.
 *
 * <p><b>Does not</b> keep events for a session without a listener, or deliver again: a client that
 * missed events learns of the gap from the end of its subscription and asks for the outcomes.
 */
final class EventRouter {
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    private final ExecutorService dispatcher;

    EventRouter(String selfId) {
        this.dispatcher = Executors.newSingleThreadExecutor(DaemonThreads.named("holdfast-events-" + selfId));
    }

    /** Listens for the session's events here; a listener it had before is ended. */
    void subscribe(String sessionId, Listener listener) {
        Listener old = listeners.put(sessionId, listener);
        if (old != null && old != listener) {
            dispatcher.execute(() -> old.onEnd(new UnavailableException("replaced by a new subscription")));
        }
    }

    void unsubscribe(String sessionId) {
        listeners.remove(sessionId);
    }

    /** Hands the events of one applied command to their sessions' listeners, in order. */
    void deliver(List<Event> events) {
        for (Event e : events) {
            Listener listener = listeners.get(e.sessionId());
            if (listener != null) {
                dispatcher.execute(() -> listener.onEvent(e));
            }
        }
    }

    /** Ends every subscription with the error {@code why} makes. */
    void endAll(Supplier<? extends Throwable> why) {
        for (Map.Entry<String, Listener> e : listeners.entrySet()) {
            if (listeners.remove(e.getKey(), e.getValue())) {
                Listener l = e.getValue();
                dispatcher.execute(() -> l.onEnd(why.get()));
            }
        }
    }

    /** Runs a task on the delivery thread, after the events handed over before it. */
    void runInOrder(Runnable task) {
        dispatcher.execute(task);
    }

    void close() {
        dispatcher.shutdown();
    }
}
