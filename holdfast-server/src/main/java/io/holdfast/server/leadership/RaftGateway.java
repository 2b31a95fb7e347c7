package io.holdfast.server.leadership;

import io.holdfast.UnavailableException;
import io.holdfast.model.NotLeaderException;
import io.holdfast.server.raft.TableQuery;
import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where this node's lock service meets Ratis: writes and read barriers sent into the Raft group,
 * the leader's lease, and who leads.
 *
 * <p><b>Guarantees.</b> A write completes with its entry's reply bytes once the entry is committed
 * and applied, or fails with {@link NotLeaderException} (naming the leader's client address when
 * it is known) or {@link UnavailableException}. {@link #holdsLease} is true only while this node
 * leads and a majority of the voters, of the current configuration and (while one changes) of the
 * previous one, answered it within {@link #leaseMillis}, which is shorter than the shortest
 * election timeout: no other leader can have been elected meanwhile.
 *
 * <p><b>Does not</b> decide what is written or when a read may be served: the service does.
 *
 * <p><b>A failure it rules out.</b> A leader cut off from the others keeps taking itself for the
 * leader until it notices, up to an election timeout later; Ratis answers its read barrier at once
 * when nothing was committed since the last round a majority acknowledged. Checked after the
 * barrier, {@link #holdsLease} is false for it, so it serves neither stale reads nor heartbeats.
 * Each such refusal is counted and logged ({@link LeaseRefusals}).
 */
public final class RaftGateway {
    private static final Logger LOG = LoggerFactory.getLogger(RaftGateway.class);

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final RaftPeerId selfId;
    /** The members' client addresses given at start; the Raft configuration's own come first. */
    private final Map<RaftPeerId, String> clientAddresses;

    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    /** See {@link #submitter()}; resolved on first use. */
    private volatile RaftClientAsynchronousProtocol division;
    /** See {@link #leaseMillis()}. */
    private final long leaseMillis;
    /** Whether this node serves as the leader now (its leader duties run). */
    private final BooleanSupplier serving;
    /** Where the lease check's refusals are counted and logged. */
    private final LeaseRefusals refusals;

    /**
     * @param serving whether this node serves as the leader now: reads are refused otherwise
     * @param refusals counts and logs each refusal of the lease check
     */
    public RaftGateway(
            RaftServer server,
            RaftGroupId groupId,
            RaftPeerId selfId,
            Map<RaftPeerId, String> clientAddresses,
            BooleanSupplier serving,
            LeaseRefusals refusals) {
        this.server = server;
        this.serving = serving;
        this.groupId = groupId;
        this.selfId = selfId;
        this.clientAddresses = Map.copyOf(clientAddresses);
        this.refusals = refusals;
        this.leaseMillis = leaseMillis(server.getProperties());
    }

    /**
     * The leader's lease under these Raft properties: 90% of the shortest election timeout, as
     * Ratis's own leader lease. The one place that says so.
     */
    static long leaseMillis(RaftProperties properties) {
        return RaftServerConfigKeys.Rpc.timeoutMin(properties).toLong(TimeUnit.MILLISECONDS) * 9 / 10;
    }

    RaftServer server() {
        return server;
    }

    RaftGroupId groupId() {
        return groupId;
    }

    public RaftPeerId selfId() {
        return selfId;
    }

    /** This node's Raft division. */
    public RaftServer.Division division() throws IOException {
        return server.getDivision(groupId);
    }

    /** Writes one entry through Raft; completes with the entry's reply. */
    public CompletableFuture<RaftClientReply> write(byte[] entry) {
        return send(RaftClientRequest.writeRequestType(), Message.valueOf(ByteString.copyFrom(entry)));
    }

    /**
     * A linearizable read: Ratis's read barrier, then this leader's lease checked. Ratis answers
     * the barrier at once when nothing was committed since the last round a majority
     * acknowledged; a leader deposed since (cut off, or paused) would then read a table that
     * misses what a newer leader committed. Holding the lease after the barrier rules a newer
     * leader out.
     */
    public <T> CompletableFuture<T> afterBarrier(Supplier<T> read) {
        if (!serving.getAsBoolean()) {
            return CompletableFuture.failedFuture(notLeader());
        }
        return send(RaftClientRequest.readRequestType(), TableQuery.BARRIER.message())
                .thenApply(reply -> {
                    Optional<UnavailableException> refused = leaseRefusal(LeaseRefusals.Refused.READ);
                    if (refused.isPresent()) {
                        throw new CompletionException(refused.get());
                    }
                    return read.get();
                });
    }

    private CompletableFuture<RaftClientReply> send(RaftClientRequest.Type type, Message message) {
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(selfId)
                .setGroupId(groupId)
                .setCallId(callIds.incrementAndGet())
                .setMessage(message)
                .setType(type)
                .build();
        CompletableFuture<RaftClientReply> sent;
        try {
            sent = submitter().submitClientRequestAsync(request);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new UnavailableException("the Raft server refused the request", e));
        }
        return sent.handle((reply, error) -> {
            if (error != null) {
                throw new CompletionException(
                        new UnavailableException("replication failed: " + error.getMessage(), error));
            }
            if (!reply.isSuccess()) {
                if (reply.getNotLeaderException() != null || reply.getLeaderNotReadyException() != null) {
                    throw new CompletionException(notLeader());
                }
                throw new CompletionException(
                        new UnavailableException("replication failed: " + reply.getException(), reply.getException()));
            }
            return reply;
        });
    }

    /**
     * Where requests enter Raft: the division of our group itself. {@code
     * RaftServer.submitClientRequestAsync} would hand each request to Ratis's client thread pool
     * and block the caller until that thread has appended it (two context switches per request,
     * measured as the largest cost of a lone request); the division appends on the caller's
     * thread. Its class implements the async client protocol; should a Ratis version not, the
     * server's method is used.
     */
    private RaftClientAsynchronousProtocol submitter() throws IOException {
        RaftClientAsynchronousProtocol direct = division;
        if (direct == null) {
            RaftServer.Division d = server.getDivision(groupId);
            direct = d instanceof RaftClientAsynchronousProtocol p ? p : server;
            division = direct;
        }
        return direct;
    }

    /** See {@link #leaseMillis(RaftProperties)}. */
    long leaseMillis() {
        return leaseMillis;
    }

    /**
     * Empty while this node holds its lease; otherwise why it cannot do {@code what} now, the
     * refusal counted and logged.
     */
    public Optional<UnavailableException> leaseRefusal(LeaseRefusals.Refused what) {
        long since = sinceMajorityAnswered();
        if (holds(since)) {
            return Optional.empty();
        }
        refusals.refused(what, since, leaseMillis);
        return Optional.of(new UnavailableException("node " + selfId
                + " has not heard from a majority of its members within " + leaseMillis + " ms, so it cannot "
                + what.cannot + "; try another member"));
    }

    /**
     * Whether this node leads and a majority of the voters, in the current configuration and (while
     * one changes) in the previous one, answered it within {@link #leaseMillis()}.
     */
    public boolean holdsLease() {
        return holds(sinceMajorityAnswered());
    }

    private boolean holds(long sinceMajorityMillis) {
        return sinceMajorityMillis >= 0 && sinceMajorityMillis < leaseMillis;
    }

    /**
     * How long ago a majority of the voters, of the current configuration and (while one changes)
     * of the previous one, had all answered this leader (itself counted, at 0): {@link
     * Long#MAX_VALUE} if a majority never did, -1 if this node does not lead.
     */
    long sinceMajorityAnswered() {
        try {
            RaftServer.Division d = server.getDivision(groupId);
            if (!d.getInfo().isLeader()) {
                return -1;
            }
            Map<String, Long> elapsed = contactMillis(d);
            elapsed.put(selfId.toString(), 0L);
            var conf = d.getRaftConf();
            return Math.max(
                    majorityAnswered(conf.getCurrentPeers(RaftPeerRole.FOLLOWER), elapsed),
                    majorityAnswered(conf.getPreviousPeers(RaftPeerRole.FOLLOWER), elapsed));
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Whether this node hears from a leader now: it leads, or it follows a leader whose last message
     * reached it within the shortest election timeout (after which it would stand itself). False
     * when it cannot tell.
     */
    public boolean hearsLeader() {
        try {
            return followsALeader(
                    server.getDivision(groupId).getInfo().getRoleInfoProto(),
                    RaftServerConfigKeys.Rpc.timeoutMin(server.getProperties()).toLong(TimeUnit.MILLISECONDS));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether a member in {@code role} leads, or follows a leader it heard from within {@code timeoutMillis}. */
    public static boolean followsALeader(RoleInfoProto role, long timeoutMillis) {
        if (role == null) {
            return false;
        }
        if (role.getRole() == RaftPeerRole.LEADER) {
            return true;
        }
        return role.hasFollowerInfo()
                && role.getFollowerInfo().hasLeaderInfo()
                && !role.getFollowerInfo().getLeaderInfo().getId().getId().isEmpty()
                && role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs() < timeoutMillis;
    }

    /**
     * As leader, how long ago each other member (voter or learner) last answered this node, in
     * milliseconds, by member id; empty when this node does not lead.
     */
    public Map<String, Long> memberContactMillis() {
        try {
            RaftServer.Division d = server.getDivision(groupId);
            return d.getInfo().isLeader() ? contactMillis(d) : Map.of();
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }

    private static Map<String, Long> contactMillis(RaftServer.Division d) {
        Map<String, Long> elapsed = new HashMap<>();
        for (ServerRpcProto f : d.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
            elapsed.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
        }
        return elapsed;
    }

    /**
     * How long ago a majority of these voters had all answered: the age of the answer that makes
     * the majority, oldest last. 0 for an empty set of voters (no previous configuration).
     */
    private static long majorityAnswered(Collection<RaftPeer> voters, Map<String, Long> elapsed) {
        if (voters.isEmpty()) {
            return 0;
        }
        long[] ages = voters.stream()
                .mapToLong(v -> elapsed.getOrDefault(v.getId().toString(), Long.MAX_VALUE))
                .sorted()
                .toArray();
        return ages[ages.length / 2];
    }

    /** The current Raft term, or -1 if it cannot be read. */
    public long term() {
        try {
            return server.getDivision(groupId).getInfo().getCurrentTerm();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * A member's client address: the one its Raft configuration entry carries (members added while
     * the cluster runs are known only there), else the one given at start.
     */
    public String clientAddress(RaftPeer peer) {
        String address = peer.getClientAddress();
        return address == null || address.isEmpty() ? clientAddresses.get(peer.getId()) : address;
    }

    public NotLeaderException notLeader() {
        return notLeader(
                selfId.equals(raftLeader())
                        ? "this node is Raft's leader but does not serve yet"
                        : "this node is not the leader");
    }

    /** This node does not serve, for this reason; names the leader's client address if known. */
    public NotLeaderException notLeader(String why) {
        RaftPeerId leader = raftLeader();
        String address = null;
        if (leader != null && !leader.equals(selfId)) {
            try {
                RaftPeer peer = server.getDivision(groupId)
                        .getRaftConf()
                        .getPeer(leader, RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER);
                address = peer == null ? clientAddresses.get(leader) : clientAddress(peer);
            } catch (IOException | RuntimeException e) {
                address = clientAddresses.get(leader);
            }
        }
        String where;
        if (address != null) {
            where = "; the leader is at " + address;
        } else if (selfId.equals(leader)) {
            // Raft's leader, whose term does not serve yet: it applies its term's first entry and
            // its leader duties give every session a fresh TTL first.
            where = "; a new leader first applies its term's first entry and gives every session a fresh TTL:"
                    + " ask again in a moment";
        } else {
            where = "; the leader is not known yet";
        }
        return new NotLeaderException(why + where, address);
    }

    /** The leader Raft names at this node, or null. */
    private RaftPeerId raftLeader() {
        try {
            return server.getDivision(groupId).getInfo().getLeaderId();
        } catch (IOException | RuntimeException e) {
            LOG.debug("No division info", e);
            return null;
        }
    }
}
