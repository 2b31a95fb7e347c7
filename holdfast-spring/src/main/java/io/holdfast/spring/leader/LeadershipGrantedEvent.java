package io.holdfast.spring.leader;

/**
 * This node was elected: published after every {@link ClusterLeader} bean of the election has started.
 *
 * <p>Not a promise that the leadership is still held when a listener runs: it may have been lost in between
 * (a {@link LeadershipRevokedEvent} then follows). Act under {@link HoldfastLeaderInitiator#leadership()}'s
 * lease, or carry {@link #epoch()} to storage.
 */
public class LeadershipGrantedEvent extends LeadershipEvent {
    private static final long serialVersionUID = 1L;

    public LeadershipGrantedEvent(HoldfastLeaderInitiator source, String election, long epoch, String value) {
        super(source, election, epoch, value);
    }
}
