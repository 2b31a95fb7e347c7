package io.holdfast.protocol;

import io.holdfast.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;

/** The members, and changes of them, to and from their messages. See {@link Convert}. */
final class ClusterMessages {
    private ClusterMessages() {}

    static io.holdfast.protocol.v1.MembersResponse toProto(io.holdfast.model.ClusterInfo c) {
        var b = io.holdfast.protocol.v1.MembersResponse.newBuilder()
                .setAnsweredBy(c.answeredBy())
                .setRole(c.role())
                .setTerm(c.term())
                .setCommitIndex(c.commitIndex())
                .setAppliedIndex(c.appliedIndex())
                .setClusterVersion(c.clusterVersion())
                .setLastToken(c.lastToken());
        if (c.leader() != null) {
            b.setLeader(c.leader());
        }
        for (io.holdfast.model.ClusterInfo.Member m : c.members()) {
            var x = io.holdfast.protocol.v1.MemberInfo.newBuilder()
                    .setId(m.id())
                    .setRaftAddress(m.raftAddress() == null ? "" : m.raftAddress())
                    .setClientAddress(m.clientAddress() == null ? "" : m.clientAddress())
                    .setRole(m.role());
            if (m.lastContactMillis() != null) {
                x.setLastContactMillis(m.lastContactMillis());
            }
            if (m.version() != null) {
                x.setVersion(m.version());
            }
            b.addMembers(x);
        }
        return b.build();
    }

    static io.holdfast.model.ClusterInfo fromProto(io.holdfast.protocol.v1.MembersResponse m) {
        List<io.holdfast.model.ClusterInfo.Member> members = new ArrayList<>(m.getMembersCount());
        for (var x : m.getMembersList()) {
            members.add(new io.holdfast.model.ClusterInfo.Member(
                    x.getId(),
                    x.getRaftAddress(),
                    x.getClientAddress(),
                    x.getRole(),
                    x.hasLastContactMillis() ? x.getLastContactMillis() : null,
                    x.hasVersion() ? x.getVersion() : null));
        }
        return new io.holdfast.model.ClusterInfo(
                m.getAnsweredBy(),
                m.getRole(),
                m.hasLeader() ? m.getLeader() : null,
                m.getTerm(),
                m.getCommitIndex(),
                m.getAppliedIndex(),
                Math.max(1, m.getClusterVersion()),
                m.getLastToken(),
                members);
    }

    static io.holdfast.protocol.v1.ChangeMembersRequest toProto(io.holdfast.model.MembershipChange change) {
        var b = io.holdfast.protocol.v1.ChangeMembersRequest.newBuilder();
        if (change instanceof io.holdfast.model.MembershipChange.Add a) {
            b.setAdd(io.holdfast.protocol.v1.AddMember.newBuilder()
                    .setId(a.id())
                    .setRaftAddress(a.raftAddress())
                    .setClientAddress(a.clientAddress())
                    .setLearner(a.learner()));
        } else if (change instanceof io.holdfast.model.MembershipChange.Remove r) {
            b.setRemove(r.id());
        } else if (change instanceof io.holdfast.model.MembershipChange.Promote p) {
            b.setPromote(p.id());
        } else if (change instanceof io.holdfast.model.MembershipChange.TransferLeader t) {
            var t2 = io.holdfast.protocol.v1.TransferLeader.newBuilder();
            if (t.id() != null) {
                t2.setId(t.id());
            }
            b.setTransferLeader(t2);
        }
        return b.build();
    }

    /** @throws InvalidArgumentException for a request that names no change */
    static io.holdfast.model.MembershipChange fromProto(io.holdfast.protocol.v1.ChangeMembersRequest r) {
        return switch (r.getChangeCase()) {
            case ADD ->
                new io.holdfast.model.MembershipChange.Add(
                        r.getAdd().getId(),
                        r.getAdd().getRaftAddress(),
                        r.getAdd().getClientAddress(),
                        r.getAdd().getLearner());
            case REMOVE -> new io.holdfast.model.MembershipChange.Remove(r.getRemove());
            case PROMOTE -> new io.holdfast.model.MembershipChange.Promote(r.getPromote());
            case TRANSFER_LEADER ->
                new io.holdfast.model.MembershipChange.TransferLeader(
                        r.getTransferLeader().hasId() ? r.getTransferLeader().getId() : null);
            case CHANGE_NOT_SET -> throw new InvalidArgumentException("the request names no change of the members");
        };
    }
}
