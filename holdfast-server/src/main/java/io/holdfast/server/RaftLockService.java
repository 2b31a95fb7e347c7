package io.holdfast.server;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.core.Command;
import io.holdfast.core.Event;
import io.holdfast.core.LockService;
import io.holdfast.core.LockTable.RegisterValue;
import io.holdfast.core.NotLeaderException;
import io.holdfast.core.PlantedBug;
import io.holdfast.core.Reply;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock service of one Raft node: what the gRPC endpoint serves. Only the leader serves; a
 * follower answers every call with {@link NotLeaderException} naming the leader's client address
 * if it knows it.
 *
 * <p>Writes are stamped with the cluster clock, batched by the {@link Proposer}, replicated and
 * made durable by Ratis, then applied by the {@link LockStateMachine}; the reply comes from the
 * apply. Reads wait for a linearizable read barrier, then read the local table. Events emitted by
 * the apply are delivered, in order, to the subscriber of their session on this node; when this
 * node stops leading, every subscription is ended so that clients go to the new leader.
 */
final class RaftLockService implements LockService, LockStateMachine.Hooks {
    private static final Logger LOG = LoggerFactory.getLogger(RaftLockService.class);

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final RaftPeerId selfId;
    private final LockStateMachine machine;
    private final Map<RaftPeerId, String> clientAddresses;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    /** See {@link #submitter()}; resolved on first use. */
    private volatile RaftClientAsynchronousProtocol division;

    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    private final ExecutorService dispatcher;
    private final Proposer proposer;
    private final LeaderDuties duties;
    /** Null unless the bug grant-without-quorum is planted. */
    private final GrantWithoutQuorum grantWithoutQuorum;

    RaftLockService(
            RaftServer server,
            RaftGroupId groupId,
            RaftPeerId selfId,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker) {
        this(server, groupId, selfId, machine, clientAddresses, ticker, Set.of());
    }

    /** @param bugs planted bugs (verification only); only grant-without-quorum matters here */
    RaftLockService(
            RaftServer server,
            RaftGroupId groupId,
            RaftPeerId selfId,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker,
            Set<PlantedBug> bugs) {
        this.server = server;
        this.groupId = groupId;
        this.selfId = selfId;
        this.machine = machine;
        this.clientAddresses = Map.copyOf(clientAddresses);
        this.dispatcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "holdfast-events-" + selfId);
            t.setDaemon(true);
            return t;
        });
        this.proposer = new Proposer(selfId.toString(), this::write);
        this.duties = new LeaderDuties(selfId.toString(), ticker, machine, proposer::propose);
        this.grantWithoutQuorum =
                bugs.contains(PlantedBug.GRANT_WITHOUT_QUORUM) ? new GrantWithoutQuorum(proposer::propose) : null;
        machine.setHooks(this);
    }

    // ------------------------------------------------------------------ LockService

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        if (command instanceof Command.ClientCommand cc) {
            duties.touch(cc.invocation().sessionId()); // any request is a heartbeat
        }
        Command stamped = Command.withTime(command, duties.clusterNow());
        if (grantWithoutQuorum != null) {
            // PLANTED BUG (verification only): grant-without-quorum: a free-looking lock is
            // granted from the local table before the log commits the acquire.
            return grantWithoutQuorum.submit(stamped, machine::read);
        }
        return proposer.propose(stamped);
    }

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        if (!machine.read(table -> table.hasSession(sessionId))) {
            return CompletableFuture.completedFuture(
                    Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "session " + sessionId + " is unknown or expired"));
        }
        duties.touch(sessionId);
        return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
    }

    /** @throws NotLeaderException if this node does not lead: subscribe at the leader */
    @Override
    public void subscribe(String sessionId, Listener listener) {
        if (!duties.isActive()) {
            throw notLeaderError();
        }
        Listener old = listeners.put(sessionId, listener);
        if (old != null && old != listener) {
            dispatcher.execute(() -> old.onEnd(new UnavailableException("replaced by a new subscription")));
        }
    }

    @Override
    public void unsubscribe(String sessionId) {
        listeners.remove(sessionId);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return afterBarrier(() -> {
            long now = duties.clusterNow(); // outside the machine's lock: duties lock before machine lock
            return machine.read(t -> t.describe(name, now));
        });
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return afterBarrier(() -> {
            long now = duties.clusterNow();
            return machine.read(t -> t.list(prefix, limit, now));
        });
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return afterBarrier(() -> machine.read(t -> t.isCurrentHolder(name, token)));
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return afterBarrier(() -> machine.read(t -> t.register(key)));
    }

    @Override
    public void close() {
        duties.close();
        proposer.close();
        endSubscriptions("the server is shutting down");
        dispatcher.shutdown();
    }

    // ------------------------------------------------------------------ state machine hooks

    @Override
    public void applied(List<Command> commands, List<Reply> replies, List<Event> events) {
        for (int i = 0; i < commands.size() && i < replies.size(); i++) {
            Command c = commands.get(i);
            if (c instanceof Command.OpenSession open && replies.get(i) instanceof Reply.Ok) {
                duties.opened(open.sessionId(), open.ttlMillis());
            } else if (c instanceof Command.CloseSession close && replies.get(i) instanceof Reply.Ok) {
                duties.ended(close.invocation().sessionId());
            }
        }
        for (Event e : events) {
            if (e instanceof Event.SessionExpired expired) {
                duties.ended(expired.sessionId());
            }
            Listener listener = listeners.get(e.sessionId());
            if (listener != null) {
                dispatcher.execute(() -> listener.onEvent(e));
            }
        }
        duties.wake();
    }

    @Override
    public void leaderReady() {
        duties.start();
    }

    @Override
    public void notLeader() {
        duties.stop();
        endSubscriptions("this node is no longer the leader");
    }

    private void endSubscriptions(String why) {
        for (Map.Entry<String, Listener> e : listeners.entrySet()) {
            if (listeners.remove(e.getKey(), e.getValue())) {
                Listener l = e.getValue();
                dispatcher.execute(() -> l.onEnd(notLeaderOr(why)));
            }
        }
    }

    // ------------------------------------------------------------------ Ratis plumbing

    String tableDigest() {
        return machine.digest();
    }

    byte[] tableBytes() {
        return machine.read(t -> {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            try {
                t.writeSnapshot(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return out.toByteArray();
        });
    }

    boolean isLeader() {
        return duties.isActive();
    }

    /** Writes one entry through Raft; completes with the entry's reply bytes. */
    private CompletableFuture<byte[]> write(byte[] entry) {
        return send(RaftClientRequest.writeRequestType(), entry)
                .thenApply(reply -> reply.getMessage().getContent().toByteArray());
    }

    private <T> CompletableFuture<T> afterBarrier(Supplier<T> read) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        return send(RaftClientRequest.readRequestType(), new byte[0]).thenApply(reply -> read.get());
    }

    private CompletableFuture<RaftClientReply> send(RaftClientRequest.Type type, byte[] payload) {
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(selfId)
                .setGroupId(groupId)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(ByteString.copyFrom(payload)))
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
                throw new java.util.concurrent.CompletionException(
                        new UnavailableException("replication failed: " + error.getMessage(), error));
            }
            if (!reply.isSuccess()) {
                if (reply.getNotLeaderException() != null || reply.getLeaderNotReadyException() != null) {
                    throw new java.util.concurrent.CompletionException(notLeaderError());
                }
                throw new java.util.concurrent.CompletionException(
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

    private NotLeaderException notLeaderError() {
        return notLeaderOr("this node is not the leader");
    }

    private NotLeaderException notLeaderOr(String why) {
        RaftPeerId leader = null;
        try {
            leader = server.getDivision(groupId).getInfo().getLeaderId();
        } catch (IOException | RuntimeException e) {
            LOG.debug("No division info", e);
        }
        String address = leader == null || leader.equals(selfId) ? null : clientAddresses.get(leader);
        return new NotLeaderException(
                why + (address == null ? "; the leader is not known yet" : "; the leader is at " + address), address);
    }
}
