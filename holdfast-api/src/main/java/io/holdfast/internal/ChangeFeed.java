package io.holdfast.internal;

import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.List;

/**
 * Where a watch reads its events: the service's own ordered record of changes, or polling. {@link
 * io.holdfast.internal.WatchRunner} drives one; a provider supplies it.
 *
 * <p>A feed's contract: {@link #read} with a null position starts the watch: its page begins with
 * the complete state ({@link WatchEvent.Type#STATE}). With the position of the last event read
 * (or the page's {@link Page#next}), it answers the changes after it, in order, each once; or, when
 * it no longer has them all, the complete state again followed by the changes after it. It never
 * skips a change without a {@code STATE}.
 */
public interface ChangeFeed {
    /**
     * The events after {@code after}, waiting up to {@code wait} for the first one.
     *
     * @param after the position to read after; null to start with the state
     * @return the events (none if nothing changed within the wait) and where to read from next
     * @throws io.holdfast.UnavailableException when the service cannot answer now (asked again)
     * @throws io.holdfast.HoldfastException for other refusals, which end the watch
     */
    Page read(WatchTarget target, String after, Duration wait) throws InterruptedException;

    /**
     * What one read found.
     *
     * @param events the events, in order
     * @param next the position to read after next time
     */
    record Page(List<WatchEvent> events, String next) {
        public Page {
            events = List.copyOf(events);
        }
    }
}
