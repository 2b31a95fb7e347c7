package io.holdfast.core;

import io.holdfast.model.Event;

/** Receives the events of one {@link LockTable#apply} call, in order. */
@FunctionalInterface
public interface EventSink {
    void accept(Event event);

    /** Drops events (followers that do not deliver them, replays). */
    EventSink NONE = event -> {};
}
