package io.holdfast;

/**
 * A running watch of a lock, a prefix of names or a register ({@link LockClient#watch(WatchTarget,
 * WatchListener)}), or of an election ({@link Election#observe}): delivers events (of an election,
 * its leaders) to its listener until it is closed or its client is.
 *
 * <p>It outlives connection failures and, on the Holdfast server, leader changes: it asks again,
 * from the last position it delivered, at whichever member answers. Where the service no longer
 * has the events since that position it delivers the complete state instead ({@link
 * WatchEvent.Type#STATE}): a listener may miss changes then, never silently.
 */
public interface Watch extends AutoCloseable {
    /** What is watched. */
    WatchTarget target();

    /** The position of the last event delivered; empty before the first. */
    String position();

    /** False once closed, or ended by the service or the client's close. */
    boolean isOpen();

    /** Stops delivering; the listener's {@link WatchListener#onEnd} follows. Idempotent. */
    @Override
    void close();
}
