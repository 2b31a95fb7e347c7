package io.holdfast.server.membership;

import io.holdfast.PutOptions;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.LockTable;
import io.holdfast.model.Command;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Transaction;
import io.holdfast.server.raft.CommandAdmission;
import io.holdfast.server.raft.LockStateMachine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cluster's protocol version as the leader admits commands by it: which members must be able
 * to apply what is logged now, the version they all speak, and whether a command of a given type
 * may be logged ({@link CommandAdmission}), or in which older form ({@link #loggable}). The
 * versions come from the members' reports in the applied table ({@link VersionReport}); the
 * members from Ratis's current configuration.
 *
 * <p><b>Guarantees.</b> A command newer than some member's reported version is refused with one
 * line naming that member, never logged; the cluster's version never drops below the one the table
 * recorded ({@link LockTable#versionFloor}). <b>Not guaranteed:</b> that a member which reported
 * stays on that build; one downgraded behind the leader's back stops at the first entry it cannot
 * read (docs/operations.md), it does not diverge.
 */
public final class ClusterVersion implements CommandAdmission {
    private final LockStateMachine machine;

    public ClusterVersion(LockStateMachine machine) {
        this.machine = machine;
    }

    /**
     * The members whose builds must be able to apply what is logged now: every voter and learner
     * of the current configuration and, during a change, of the previous one too.
     */
    public Set<String> members() throws IOException {
        return members(machine);
    }

    /** {@link #members()} of the division {@code machine} runs in. */
    static Set<String> members(LockStateMachine machine) throws IOException {
        var conf = machine.getServer().join().getDivision(machine.getGroupId()).getRaftConf();
        Set<String> ids = new java.util.TreeSet<>();
        for (var role : List.of(
                org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER,
                org.apache.ratis.proto.RaftProtos.RaftPeerRole.LISTENER)) {
            conf.getAllPeers(role).forEach(p -> ids.add(p.getId().toString()));
        }
        return ids;
    }

    /** The members' protocol version: the lowest reported, never below the one recorded ({@link LockTable#clusterVersion}). */
    public int clusterVersion() throws IOException {
        Set<String> members = members();
        return machine.read(t -> t.clusterVersion(members));
    }

    /** The protocol version {@code id} reported through the log, or null if it has not. */
    public Integer reported(String id) {
        return machine.read(t -> t.memberVersions().get(id));
    }

    /**
     * Why a command of this type must not be logged now, or null: this build does not know it, or
     * it is newer than the cluster's version, so a member could not apply it. The message says
     * which members hold the cluster back. Commands of version 1 need no look-up.
     */
    @Override
    public String refusal(int type) {
        if (!machine.vocabulary().knows(type)) {
            return "is of a kind this build does not know";
        }
        int since = machine.vocabulary().since(type);
        if (since <= 1) {
            return null;
        }
        // The cluster's recorded version is a floor: a member that has not reported (one just
        // added, every member of a cluster just restored) or that reports less does not lower it.
        if (since <= machine.read(LockTable::versionFloor)) {
            return null;
        }
        Set<String> members;
        try {
            members = members();
        } catch (IOException | RuntimeException e) {
            return "needs protocol version " + since + " and the members are not known yet";
        }
        // This member runs this build: it speaks its version even before its report is logged (a
        // single node takes new commands from its start, not a report's round trip later).
        String self = machine.getId() == null ? null : machine.getId().toString();
        Map<String, Integer> reported = machine.read(LockTable::memberVersions);
        List<String> behind = new ArrayList<>();
        for (String m : members) {
            Integer v = m.equals(self) ? Integer.valueOf(machine.vocabulary().version()) : reported.get(m);
            if (v == null) {
                behind.add(m + " has not reported its version");
            } else if (v < since) {
                behind.add(m + " speaks " + v);
            }
        }
        if (behind.isEmpty()) {
            return null;
        }
        return "needs protocol version " + since + ", which not every member speaks (" + String.join(", ", behind)
                + "): upgrade every member first (docs/operations.md)";
    }

    /**
     * The command as the leader logs it now. A register write whose fence must be the writer's own
     * grant ({@link RegisterSet#ownFence()}, command type 16, protocol version 4) is logged
     * as type 10 instead, whose fence may be any session's current grant, while {@link #refusal}
     * refuses type 16: a member still speaks 3 or less, the members are not known yet, or this
     * build plays an older one. Type 10 is what every build reads, so a rolling upgrade keeps
     * taking register writes, with the older check until the last member reports 4. A write that
     * attaches its key or gives it a time to live (type 18, protocol version 6) has no older form:
     * it is returned as it is, for the version check to refuse. A put that keeps its key's lifetime
     * (type 23, or a transaction of type 24, protocol version 8) is logged, while a member speaks 7
     * or less, as the put that detaches its key (types 16 and 21): what every put without a
     * lifetime did before version 8, so a rolling upgrade keeps taking writes, with the older
     * lifetime until the last member reports 8. Every other command is returned as it is.
     */
    public Command loggable(Command command) {
        if (command instanceof RegisterSet set && set.keeps() && refusal(CommandCodec.typeOf(set)) != null) {
            command = set.withLifetime(PutOptions.Lifetime.DETACH);
        }
        if (command instanceof Transaction t
                && CommandCodec.typeOf(t) != CommandCodec.typeOf(t.withoutKeeping())
                && refusal(CommandCodec.typeOf(t)) != null) {
            return t.withoutKeeping();
        }
        if (command instanceof RegisterSet set
                && set.ownFence()
                && !set.leased()
                && refusal(CommandCodec.typeOf(set)) != null) {
            return set.withAnyFence();
        }
        return command;
    }
}
