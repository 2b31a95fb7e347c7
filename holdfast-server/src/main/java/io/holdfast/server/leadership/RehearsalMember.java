package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import io.holdfast.core.CommandCodec;
import io.holdfast.internal.Causes;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.raft.EntryCodec;
import io.holdfast.server.raft.LockStateMachine;
import io.holdfast.server.raft.StateMachineHooks;
import io.holdfast.server.raft.TableQuery;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One server of a leader rehearsal's throwaway group ({@link RehearsalGroup}) with what a member
 * runs beside Ratis: a {@link LockStateMachine} over a fresh table, its own {@link LeaderDuties}
 * started and stopped by the state machine's leadership, as the node's hooks do, its answer to a
 * relayed round of heartbeats ({@link HeartbeatVerdicts} under the duties, refused unless it leads
 * with its lease), and a {@link LeaderLink} to whichever member of the group leads, with the
 * relay's settings.
 *
 * <p><b>Guarantees.</b> Its log is Ratis's segmented log in {@code dir}, forced to disk as the
 * node's is; nothing of the node's own group is used. {@link #close} stops all of it, whatever
 * state it is in, and never throws.
 *
 * <p><b>Failure story.</b> A member closed while it leads is the rehearsal's leader death: its
 * peers see its streams end and elect another, the link of a surviving follower meets the dead
 * leader first, as after a SIGKILL (but without the wait for a timeout that a silent peer costs).
 */
final class RehearsalMember implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RehearsalMember.class);
    /** A try of the link: the node's relay's (its {@code LeaderAsks}). */
    static final long LINK_TIMEOUT_MILLIS = 1000;

    private final RaftServer server;
    private final LockStateMachine machine;
    private final RaftGateway gateway;
    private final LeaderDuties duties;
    private final LeaderLink link;

    private RehearsalMember(
            RaftServer server, LockStateMachine machine, RaftGateway gateway, LeaderDuties duties, LeaderLink link) {
        this.server = server;
        this.machine = machine;
        this.gateway = gateway;
        this.duties = duties;
        this.link = link;
    }

    /**
     * Builds and starts the server {@code id} of the throwaway group {@code groupId}, its storage in
     * {@code dir}, on a loopback port the operating system picks as it binds: it serves no group
     * until {@link #join}, once every member's {@link #address} is known.
     */
    static RehearsalMember start(ServerConfig config, RaftGroupId groupId, RaftPeerId id, Path dir, Ticker ticker)
            throws IOException {
        LockStateMachine machine = LockStateMachine.throwaway();
        RaftServer server = RaftServer.newBuilder()
                .setServerId(id)
                .setGroup(RaftGroup.emptyGroup())
                .setStateMachine(machine)
                .setProperties(RaftSettings.rehearsalProperties(config, dir, 0))
                .setParameters(RaftSettings.rehearsalParameters(config, machine.commitWakeups()))
                .setOption(RaftStorage.StartupOption.FORMAT)
                .build();
        String name = "rehearsal-" + config.nodeId() + "-" + id;
        LeaderDuties[] duties = {null};
        RaftGateway gateway = new RaftGateway(
                server, groupId, id, Map.of(), () -> duties[0].isActive(), new LeaseRefusals(name, ticker));
        duties[0] = new LeaderDuties(name, ticker, machine, envelope -> write(gateway, envelope));
        LeaderLink link = new LeaderLink(
                server,
                groupId,
                RaftSettings.rehearsalParameters(config, machine.commitWakeups()),
                LINK_TIMEOUT_MILLIS,
                1,
                true);
        RehearsalMember member = new RehearsalMember(server, machine, gateway, duties[0], link);
        machine.setHooks(member.new Hooks());
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            member.close();
            throw e;
        }
        return member;
    }

    /** Where its peers reach it: the loopback port its Raft server bound. */
    RaftPeer peer() {
        return RaftPeer.newBuilder()
                .setId(server.getId())
                .setAddress("127.0.0.1:"
                        + server.getServerRpc().getInetSocketAddress().getPort())
                .build();
    }

    /** Makes it a member of {@code group} (its log formatted afresh), which then elects a leader. */
    void join(RaftGroup group) throws IOException {
        RaftClientReply reply = server.groupManagement(
                GroupManagementRequest.newAdd(ClientId.randomId(), server.getId(), 0, group, true));
        if (!reply.isSuccess()) {
            throw new IOException("a rehearsal member could not join its group: "
                    + (reply.getException() == null ? "refused" : Causes.rootMessage(reply.getException())));
        }
    }

    /**
     * Whether it leads, ready, with its duties running and its lease held: what a node's service
     * needs before it answers a linearizable read.
     */
    boolean leads() {
        try {
            return duties.isActive()
                    && server.getDivision(gateway.groupId()).getInfo().isLeaderReady()
                    && gateway.holdsLease();
        } catch (IOException e) {
            return false;
        }
    }

    RaftGateway gateway() {
        return gateway;
    }

    LeaderLink link() {
        return link;
    }

    /** Writes one command through this member's gateway (it must lead), stamped {@code time}. */
    CompletableFuture<Reply> write(long time, Command command) {
        return write(gateway, Command.Envelope.of(time, command));
    }

    private static CompletableFuture<Reply> write(RaftGateway gateway, Command.Envelope envelope) {
        return gateway.write(EntryCodec.encodeCommands(List.of(CommandCodec.encode(envelope))))
                .thenApply(r -> EntryCodec.decodeReplies(
                                r.getMessage().getContent().toByteArray(), 1)
                        .get(0));
    }

    /** The node's hooks as far as a leader's paths go: duties, and relayed rounds. */
    private final class Hooks implements StateMachineHooks {
        @Override
        public void applied(Applied entry) {
            duties.applied(entry);
        }

        @Override
        public void leaderReady() {
            duties.start();
        }

        @Override
        public void notLeader() {
            duties.stop();
        }

        @Override
        public TableQuery.TouchSessions.Answer touchSessions(List<String> sessionIds) {
            try {
                return TableQuery.TouchSessions.Answer.of(
                        HeartbeatVerdicts.answer(machine, duties, gateway, sessionIds));
            } catch (RuntimeException e) {
                return TableQuery.TouchSessions.Answer.refused(Causes.rootMessage(e));
            }
        }
    }

    @Override
    public void close() {
        link.close();
        duties.close();
        try {
            server.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing a rehearsal server: {}", Causes.rootMessage(e));
        }
    }
}
