package io.holdfast.model;

import java.util.Objects;

/**
 * A change to a cluster's members, asked of its leader ({@link LockService#changeMembers}).
 *
 * <p>One change at a time: a cluster makes a change only when the previous one is committed, and
 * refuses another meanwhile. Adding a voter is safe while the cluster serves: the new member first
 * catches up with the log without a vote, and only then does the configuration that counts it
 * become the one in force. A change that would leave no voter is refused.
 */
public sealed interface MembershipChange {

    /**
     * Adds a member: a voter, or with {@code learner} a non-voting member that receives the log
     * and can be {@link Promote promoted} once it has caught up (the careful way to replace one).
     *
     * @param raftAddress {@code host:port} of its Raft port
     * @param clientAddress {@code host:port} of its client port, where clients are sent when it leads
     */
    record Add(String id, String raftAddress, String clientAddress, boolean learner) implements MembershipChange {
        public Add {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(raftAddress, "raftAddress");
            Objects.requireNonNull(clientAddress, "clientAddress");
        }
    }

    /** Removes a member, voter or learner. The removed node should then be stopped. */
    record Remove(String id) implements MembershipChange {
        public Remove {
            Objects.requireNonNull(id, "id");
        }
    }

    /** Makes a learner a voter. */
    record Promote(String id) implements MembershipChange {
        public Promote {
            Objects.requireNonNull(id, "id");
        }
    }

    /**
     * Hands the leadership to {@code id}, or with null to the voter that is most up to date. The
     * new leader wins an ordinary election at once, so no election timeout is waited for.
     */
    record TransferLeader(String id) implements MembershipChange {}

    /** What the change does, in a few words, for messages and the audit log. */
    default String describe() {
        if (this instanceof Add a) {
            return "add " + (a.learner() ? "learner " : "") + a.id() + " (Raft " + a.raftAddress() + ", clients "
                    + a.clientAddress() + ")";
        }
        if (this instanceof Remove r) {
            return "remove " + r.id();
        }
        if (this instanceof Promote p) {
            return "promote " + p.id();
        }
        TransferLeader t = (TransferLeader) this;
        return "transfer the leadership to " + (t.id() == null ? "the most up-to-date voter" : t.id());
    }
}
