package io.holdfast.spring.leader;

import org.springframework.context.ApplicationEvent;

/**
 * A change of this node's leadership of an election, published by its {@link HoldfastLeaderInitiator} (the
 * event's source): {@link LeadershipGrantedEvent} or {@link LeadershipRevokedEvent}. Listen with
 * {@code @EventListener}. Events of one initiator are published in order, from its own thread; a listener that
 * throws is logged and does not stop the initiator.
 */
public abstract class LeadershipEvent extends ApplicationEvent {
    private static final long serialVersionUID = 1L;

    private final String election;
    private final long epoch;
    private final String value;

    protected LeadershipEvent(HoldfastLeaderInitiator source, String election, long epoch, String value) {
        super(source);
        this.election = election;
        this.epoch = epoch;
        this.value = value;
    }

    /** The election's name. */
    public String election() {
        return election;
    }

    /**
     * The leadership's epoch: the fencing token of its grant, higher than every earlier leadership's of the
     * election. Write it with what the leader stores, so that the store can refuse a deposed leader.
     */
    public long epoch() {
        return epoch;
    }

    /** What this node proclaimed as leader ({@code holdfast.leader.value}: by default its host name). */
    public String value() {
        return value;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + election + ", epoch " + epoch + ", " + value + "]";
    }
}
