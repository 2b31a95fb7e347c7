package io.holdfast;

import java.util.List;

/**
 * A wait was refused at once because it would have closed a cycle in the wait-for graph of owners:
 * the caller would have waited, directly or through others, for itself. Nothing was queued. The
 * caller should release what it holds and retry, or order its acquisitions.
 */
public class DeadlockException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    private final List<String> cycle;

    /**
     * @param message human-readable detail
     * @param cycle the lock names along the cycle, starting with the one that was refused
     */
    public DeadlockException(String message, List<String> cycle) {
        super(ErrorCode.DEADLOCK, message, null);
        this.cycle = List.copyOf(cycle);
    }

    /** The lock names along the refused cycle, starting with the requested lock; may be empty. */
    public List<String> cycle() {
        return cycle;
    }
}
