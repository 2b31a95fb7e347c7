package io.holdfast.spring.leader;

/**
 * A leadership of this node is over: published after every {@link ClusterLeader} bean of the election has been
 * stopped, for each leadership that had its {@link LeadershipGrantedEvent}, with the same epoch.
 *
 * <p>{@link #lost()} tells how it ended: taken from this node (its session expired, an operator revoked it, its
 * client was closed), or given up by this node (the context or the initiator stopping). After a loss the
 * initiator campaigns again; another node may already lead, with a higher epoch.
 */
public class LeadershipRevokedEvent extends LeadershipEvent {
    private static final long serialVersionUID = 1L;

    private final boolean lost;

    public LeadershipRevokedEvent(
            HoldfastLeaderInitiator source, String election, long epoch, String value, boolean lost) {
        super(source, election, epoch, value);
        this.lost = lost;
    }

    /** True if the leadership was taken from this node; false if this node resigned it. */
    public boolean lost() {
        return lost;
    }

    @Override
    public String toString() {
        return super.toString() + (lost ? " lost" : " resigned");
    }
}
