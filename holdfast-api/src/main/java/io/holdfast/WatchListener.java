package io.holdfast;

/**
 * Receives a watch's events ({@link LockClient#watch(WatchTarget, WatchListener)}). Called on the
 * watch's own thread, one event at a time, in order; a listener that blocks holds back the events
 * after it, and one that throws goes on receiving (the exception goes to the watch thread's
 * uncaught-exception handler).
 */
@FunctionalInterface
public interface WatchListener {
    /** One event: a change, or the complete state ({@link WatchEvent.Type#STATE}). */
    void onEvent(WatchEvent event);

    /**
     * The watch has stopped for good: closed ({@code cause} null), its client closed, its client's
     * session lost (on the Holdfast server a {@link SessionExpiredException} naming the session and
     * why: an outage longer than its TTL, an operator's end), or refused by the service ({@code
     * cause} says why: {@link UnsupportedFeatureException}, {@link PermissionDeniedException}).
     * Called once, after the last event.
     */
    default void onEnd(HoldfastException cause) {}
}
