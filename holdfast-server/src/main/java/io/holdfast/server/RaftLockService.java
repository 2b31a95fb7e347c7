package io.holdfast.server;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.core.Command;
import io.holdfast.core.CommandCodec;
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
import org.apache.ratis.protocol.RaftPeer;
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
    /** The members' client addresses given at start; the Raft configuration's own come first. */
    private final Map<RaftPeerId, String> clientAddresses;

    private final Membership membership;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    /** See {@link #submitter()}; resolved on first use. */
    private volatile RaftClientAsynchronousProtocol division;

    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    private final ExecutorService dispatcher;
    private final Proposer proposer;
    private final LeaderDuties duties;
    private final AuditLog audit;
    /** The access rules this node requires (see {@link #requireAccessRules}); null if none. */
    private volatile io.holdfast.core.AccessRules initialRules;
    /** Null unless the bug grant-without-quorum is planted. */
    private final GrantWithoutQuorum grantWithoutQuorum;
    /** See {@link #leaseMillis()}. */
    private final long leaseMillis;
    /** Planted bug release-lost-on-step-down (verification only). */
    private final boolean releaseLostOnStepDown;

    private final ServerMetrics metrics;

    /**
     * (table time, local nanoTime) when this replica's table clock last moved: a follower shows
     * durations against it plus the time elapsed since, since its table's clock moves only when
     * the leader's commands arrive. For display only.
     */
    private volatile long[] replicaClock = {0, System.nanoTime()};

    RaftLockService(
            RaftServer server,
            RaftGroupId groupId,
            RaftPeerId selfId,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker) {
        this(server, groupId, selfId, machine, clientAddresses, ticker, Set.of(), new ServerMetrics(selfId.toString()));
    }

    /**
     * @param bugs planted bugs (verification only); grant-without-quorum and
     *     release-lost-on-step-down matter here
     */
    RaftLockService(
            RaftServer server,
            RaftGroupId groupId,
            RaftPeerId selfId,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker,
            Set<PlantedBug> bugs,
            ServerMetrics metrics) {
        this.server = server;
        this.metrics = metrics;
        this.groupId = groupId;
        this.selfId = selfId;
        this.machine = machine;
        this.clientAddresses = Map.copyOf(clientAddresses);
        this.membership = new Membership(server, groupId, selfId, this::notLeaderError);
        this.dispatcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "holdfast-events-" + selfId);
            t.setDaemon(true);
            return t;
        });
        this.proposer = new Proposer(selfId.toString(), this::write);
        this.audit = new AuditLog(selfId.toString());
        this.duties = new LeaderDuties(selfId.toString(), ticker, machine, proposer::propose);
        this.releaseLostOnStepDown = bugs.contains(PlantedBug.RELEASE_LOST_ON_STEP_DOWN);
        this.leaseMillis = org.apache.ratis.server.RaftServerConfigKeys.Rpc.timeoutMin(server.getProperties())
                        .toLong(java.util.concurrent.TimeUnit.MILLISECONDS)
                * 9
                / 10;
        this.grantWithoutQuorum =
                bugs.contains(PlantedBug.GRANT_WITHOUT_QUORUM) ? new GrantWithoutQuorum(proposer::propose) : null;
        machine.setHooks(this);
        metrics.bind(
                () -> machine.read(io.holdfast.core.LockTable::stats),
                this::refusals,
                duties::isActive,
                this::term,
                () -> {
                    var last = machine.getLastAppliedTermIndex();
                    return last == null ? -1L : last.getIndex();
                });
    }

    // ------------------------------------------------------------------ LockService

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        return submit(command, null);
    }

    /**
     * Proposes the command with the caller's identity: the table checks it at apply, on every
     * replica, against the access rules in force at that point of the log.
     */
    @Override
    public CompletableFuture<Reply> submit(Command command, String identity) {
        long start = System.nanoTime();
        CompletableFuture<Reply> reply = submitTimed(command, identity);
        reply.whenComplete((r, e) -> metrics.request(command, r != null ? r : e, System.nanoTime() - start));
        return reply;
    }

    private CompletableFuture<Reply> submitTimed(Command command, String identity) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        UnavailableException pending = rulesPending();
        if (pending != null) {
            return CompletableFuture.failedFuture(pending);
        }
        if (command instanceof Command.SetAccessRules set && set.text() == null && initialRules != null) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException(
                    "this node requires access rules (--auth-rules): restart the nodes without it to turn access"
                            + " control off"));
        }
        if (command instanceof Command.Tick
                || command instanceof Command.ExpireSession
                || command instanceof Command.KeepAlive
                || command instanceof Command.ReportVersion) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException(
                    command.getClass().getSimpleName() + " is proposed by the members only"));
        }
        int type = CommandCodec.typeOf(command);
        if (!machine.vocabulary.allInVersionOne() || !machine.vocabulary.knows(type)) {
            String tooNew = machine.refusal(type);
            if (tooNew != null) {
                return CompletableFuture.failedFuture(new io.holdfast.UnsupportedFeatureException(
                        "the cluster cannot take this " + command.getClass().getSimpleName() + " yet: it " + tooNew));
            }
        }
        if (command instanceof Command.ClientCommand cc
                && mayUseSession(identity, cc.invocation().sessionId())) {
            duties.touch(cc.invocation().sessionId()); // any request is a heartbeat
        }
        Command stamped = Command.withTime(command, duties.clusterNow());
        if (identity != null) {
            return proposer.propose(new Command.Authored(identity, stamped));
        }
        if (grantWithoutQuorum != null) {
            // PLANTED BUG (verification only): grant-without-quorum: a free-looking lock is
            // granted from the local table before the log commits the acquire.
            return grantWithoutQuorum.submit(stamped, machine::read);
        }
        if (releaseLostOnStepDown && command instanceof Command.Release) {
            // PLANTED BUG (verification only): release-lost-on-step-down: a release that could not
            // be replicated is answered as done.
            return proposer.propose(stamped).exceptionally(e -> Reply.Ok.INSTANCE);
        }
        return proposer.propose(stamped);
    }

    /**
     * A heartbeat is acknowledged only while this leader holds its lease: a majority of the voters
     * (itself counted) answered it within {@link #leaseMillis()}, less than the shortest election
     * timeout, so that no other leader can have been elected since.
     *
     * <p>Why: a client counts its leases valid for a TTL from the sending of its last acknowledged
     * heartbeat, and a new leader gives every session a fresh TTL from its own start. A leader cut
     * off from the others (or paused, then resumed) still takes itself for the leader until it
     * notices, up to an election timeout later, while the others may have elected a new leader
     * already. Heartbeats it acknowledged on its own say in that time would let its clients count
     * on a TTL that ends after the new leader has expired them and handed their locks to others.
     * (A Ratis read barrier does not help: it answers at once when nothing was committed since
     * the last round that a majority acknowledged, which a deposed leader's last round was.)
     */
    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        if (!machine.read(table -> table.hasSession(sessionId))) {
            return CompletableFuture.completedFuture(
                    Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "session " + sessionId + " is unknown or expired"));
        }
        if (!holdsLease()) {
            return CompletableFuture.failedFuture(noLease("vouch for sessions"));
        }
        duties.touch(sessionId);
        return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
    }

    /** 90% of the shortest election timeout, as Ratis's own leader lease. */
    long leaseMillis() {
        return leaseMillis;
    }

    private UnavailableException noLease(String what) {
        return new UnavailableException("node " + selfId + " has not heard from a majority of its members within "
                + leaseMillis + " ms, so it cannot " + what + "; try another member");
    }

    /**
     * Whether this node leads and a majority of the voters, in the current configuration and (while
     * one changes) in the previous one, answered it within {@link #leaseMillis()}.
     */
    boolean holdsLease() {
        try {
            RaftServer.Division division = server.getDivision(groupId);
            if (!division.getInfo().isLeader()) {
                return false;
            }
            long lease = leaseMillis;
            Set<String> fresh = new java.util.HashSet<>();
            fresh.add(selfId.toString());
            for (org.apache.ratis.proto.RaftProtos.ServerRpcProto f :
                    division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
                if (f.getLastRpcElapsedTimeMs() < lease) {
                    fresh.add(f.getId().getId().toStringUtf8());
                }
            }
            var conf = division.getRaftConf();
            var voter = org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER;
            return majority(conf.getCurrentPeers(voter), fresh) && majority(conf.getPreviousPeers(voter), fresh);
        } catch (IOException e) {
            return false;
        }
    }

    /** True for an empty set of voters (no previous configuration). */
    private static boolean majority(java.util.Collection<RaftPeer> voters, Set<String> fresh) {
        if (voters.isEmpty()) {
            return true;
        }
        long heard = voters.stream()
                .filter(v -> fresh.contains(v.getId().toString()))
                .count();
        return heard * 2 > voters.size();
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
    public boolean mayRead(String identity, String name) {
        if (rulesPending() != null) {
            return false;
        }
        return machine.read(t -> t.mayRead(identity, name));
    }

    @Override
    public boolean mayUseSession(String identity, String sessionId) {
        return machine.read(t -> t.sessionIdentity(sessionId)
                .map(owner -> owner.equals(identity == null ? "" : identity))
                .orElse(true));
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
    public void applied(
            List<Command.Authored> commands,
            List<Reply> replies,
            List<List<Event>> events,
            long tableNow,
            long nextDeadline) {
        metrics.applied(commands, replies, events);
        if (tableNow != replicaClock[0]) {
            replicaClock = new long[] {tableNow, System.nanoTime()};
        }
        for (int i = 0; i < commands.size() && i < replies.size(); i++) {
            if (commands.get(i) == null) {
                continue;
            }
            audit.applied(commands.get(i), replies.get(i), events.get(i));
            Command c = commands.get(i).command();
            if (c instanceof Command.OpenSession open && replies.get(i) instanceof Reply.Ok) {
                duties.opened(open.sessionId(), open.ttlMillis());
            } else if (c instanceof Command.CloseSession close && replies.get(i) instanceof Reply.Ok) {
                duties.ended(close.invocation().sessionId());
            }
        }
        for (List<Event> caused : events) {
            for (Event e : caused) {
                if (e instanceof Event.SessionExpired expired) {
                    duties.ended(expired.sessionId());
                    logExpiry(expired.sessionId(), caused);
                }
                Listener listener = listeners.get(e.sessionId());
                if (listener != null) {
                    dispatcher.execute(() -> listener.onEvent(e));
                }
            }
        }
        duties.applied(nextDeadline);
    }

    /**
     * Access control is required on this node: nothing is served until access rules are in force,
     * and a leader that finds none proposes {@code initial}.
     */
    void requireAccessRules(io.holdfast.core.AccessRules initial) {
        this.initialRules = initial;
    }

    /** Refuses while this node requires access rules and none are in force yet; else null. */
    private UnavailableException rulesPending() {
        if (initialRules == null || machine.read(t -> t.accessRules() != null)) {
            return null;
        }
        return new UnavailableException("the access rules are not in force yet (a new leader proposes them); retry");
    }

    @Override
    public void leaderReady() {
        duties.start();
        io.holdfast.core.AccessRules initial = initialRules;
        if (initial != null && machine.read(t -> t.accessRules() == null)) {
            LOG.info("No access rules in force: proposing the {} this node started with", initial);
            proposer.propose(new Command.SetAccessRules(duties.clusterNow(), initial.text()))
                    .whenComplete((reply, error) -> {
                        if (error != null || reply instanceof Reply.Failed) {
                            LOG.warn("The initial access rules were not applied: {}", error != null ? error : reply);
                        }
                    });
        }
    }

    /** One line per expired session, with the grants it lost (they are in the same event list). */
    private void logExpiry(String sessionId, List<Event> caused) {
        StringBuilder lost = new StringBuilder();
        for (Event e : caused) {
            if (e instanceof Event.Lost l && l.sessionId().equals(sessionId)) {
                lost.append(lost.length() == 0 ? "" : ", ")
                        .append(l.name())
                        .append(" (token ")
                        .append(l.token())
                        .append(')');
            }
        }
        LOG.atInfo()
                .addKeyValue("event", "session-expired")
                .addKeyValue("node", selfId)
                .addKeyValue("session", sessionId)
                .log(
                        "Session {} expired (no heartbeat within its TTL); {}",
                        sessionId,
                        lost.length() == 0 ? "it held nothing" : "it lost " + lost);
    }

    @Override
    public void leaderChanged(String leader) {
        metrics.leaderChanged();
        dispatcher.execute(() -> LOG.atInfo()
                .addKeyValue("event", "leader-changed")
                .addKeyValue("node", selfId)
                .addKeyValue("leader", leader)
                .addKeyValue("term", term())
                .log(
                        leader == null
                                ? "Node {} knows no leader (term {})"
                                : selfId.toString().equals(leader)
                                        ? "Node {} is now the leader (term {})"
                                        : "Node {}" + " follows leader " + leader + " (term {})",
                        selfId,
                        term()));
    }

    /** The state machine, for tests in this package. */
    LockStateMachine machine() {
        return machine;
    }

    /** Completes with the reason when this replica stopped applying the log ({@link #halted}). */
    final CompletableFuture<String> halt = new CompletableFuture<>();

    @Override
    public void halted(String reason) {
        halt.complete(reason);
    }

    @Override
    public void snapshotTaken(long index, long bytes) {
        metrics.snapshot(bytes);
        LOG.atInfo()
                .addKeyValue("event", "snapshot")
                .addKeyValue("node", selfId)
                .addKeyValue("index", index)
                .addKeyValue("bytes", bytes)
                .log("Node {} wrote a snapshot at log index {} ({} bytes)", selfId, index, bytes);
    }

    long term() {
        try {
            return server.getDivision(groupId).getInfo().getCurrentTerm();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Reads the table for operators (dashboard, JSON API): linearizable through a read barrier while
     * this node leads; otherwise this replica's applied state, which may lag the leader's. The
     * function gets the table and the cluster time to show durations against.
     *
     * @return the value, and whether it came through the leader's barrier
     */
    <T> CompletableFuture<Inspection<T>> inspect(
            java.util.function.BiFunction<io.holdfast.core.LockTable, Long, T> read) {
        if (duties.isActive()) {
            CompletableFuture<Inspection<T>> leader = afterBarrier(() -> {
                long now = duties.clusterNow();
                return new Inspection<>(machine.read(t -> read.apply(t, now)), true);
            });
            return leader.exceptionally(e -> localInspection(read));
        }
        return CompletableFuture.completedFuture(localInspection(read));
    }

    private <T> Inspection<T> localInspection(java.util.function.BiFunction<io.holdfast.core.LockTable, Long, T> read) {
        long[] clock = replicaClock;
        long estimate = clock[0] + (System.nanoTime() - clock[1]) / 1_000_000;
        return new Inspection<>(machine.read(t -> read.apply(t, Math.max(t.now(), estimate))), false);
    }

    /** A read for operators, and whether it is linearizable (see {@link #inspect}). */
    record Inspection<T>(T value, boolean linearizable) {}

    /** Milliseconds left of each session's TTL, as this node tracks them while it leads. */
    Map<String, Long> ttlLeftMillis(java.util.Collection<String> sessionIds) {
        return duties.ttlLeftMillis(sessionIds);
    }

    /**
     * Sessions through the client port: only the leader answers (a follower sends the client to
     * it), so that the page is linearizable and has every session's TTL left.
     */
    @Override
    public CompletableFuture<io.holdfast.core.SessionPage> sessions(String identity, String after, int limit) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        return inspectSessions(identity, after, limit);
    }

    /** Sessions for the dashboard: from this replica when it does not lead (see {@link #inspect}). */
    CompletableFuture<io.holdfast.core.SessionPage> inspectSessions(String identity, String after, int limit) {
        if (limit < 1 || limit > 10_000) {
            return CompletableFuture.failedFuture(
                    new io.holdfast.InvalidArgumentException("limit must be 1 to 10000, not " + limit));
        }
        boolean admin = isAdmin(identity);
        return inspect((table, now) -> table.sessions(
                        after, limit + 1, now, s -> admin || java.util.Objects.equals(s.identity(), identity)))
                .thenApply(read -> {
                    List<io.holdfast.core.SessionPage.Session> page = read.value();
                    boolean more = page.size() > limit;
                    if (more) {
                        page = page.subList(0, limit);
                    }
                    Map<String, Long> left = duties.ttlLeftMillis(page.stream()
                            .map(io.holdfast.core.SessionPage.Session::id)
                            .toList());
                    List<io.holdfast.core.SessionPage.Session> out = new java.util.ArrayList<>(page.size());
                    for (io.holdfast.core.SessionPage.Session x : page) {
                        out.add(x.withTtlLeft(left.get(x.id())));
                    }
                    return new io.holdfast.core.SessionPage(
                            out, more ? page.get(page.size() - 1).id() : null, read.linearizable());
                });
    }

    /**
     * The members as this node sees them: the leader knows when it last heard from each follower;
     * a follower knows only itself and who leads.
     */
    @Override
    public CompletableFuture<io.holdfast.core.ClusterInfo> cluster() {
        try {
            RaftServer.Division division = server.getDivision(groupId);
            var info = division.getInfo();
            String self = selfId.toString();
            // "leader" only once it serves (its state machine caught up as leader), as clients see it.
            String role = duties.isActive()
                    ? "leader"
                    : info.isLeader()
                            ? "leader-not-ready"
                            : info.getCurrentRole().name().toLowerCase(java.util.Locale.ROOT);
            RaftPeerId leaderId = info.getLeaderId();
            String leader = leaderId == null ? null : leaderId.toString();
            Map<String, Long> contact = new java.util.HashMap<>();
            var roleInfo = info.getRoleInfoProto();
            if (roleInfo.hasLeaderInfo()) {
                for (var f : roleInfo.getLeaderInfo().getFollowerInfoList()) {
                    contact.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
                }
            }
            java.util.Set<RaftPeerId> learners = new java.util.HashSet<>();
            division.getRaftConf()
                    .getAllPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.LISTENER)
                    .forEach(p -> learners.add(p.getId()));
            Map<String, Integer> versions = machine.read(io.holdfast.core.LockTable::memberVersions);
            List<io.holdfast.core.ClusterInfo.Member> members = new java.util.ArrayList<>();
            List<org.apache.ratis.protocol.RaftPeer> peers =
                    new java.util.ArrayList<>(division.getGroup().getPeers());
            peers.sort(java.util.Comparator.comparing(p -> p.getId().toString()));
            for (org.apache.ratis.protocol.RaftPeer p : peers) {
                String id = p.getId().toString();
                boolean learner = learners.contains(p.getId());
                String memberRole = id.equals(self)
                        ? role
                        : id.equals(leader)
                                ? "leader"
                                : learner ? "learner" : contact.containsKey(id) ? "follower" : "unknown";
                Long last = id.equals(self) ? Long.valueOf(0) : contact.get(id);
                members.add(new io.holdfast.core.ClusterInfo.Member(
                        id, p.getAddress(), clientAddress(p), memberRole, last, versions.get(id)));
            }
            var applied = machine.getLastAppliedTermIndex();
            return CompletableFuture.completedFuture(new io.holdfast.core.ClusterInfo(
                    self,
                    role,
                    leader,
                    info.getCurrentTerm(),
                    division.getRaftLog().getLastCommittedIndex(),
                    applied == null ? -1 : applied.getIndex(),
                    machine.clusterVersion(),
                    members));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(
                    new UnavailableException("this node's Raft state is not readable", e));
        }
    }

    /**
     * Changes the members through Ratis ({@link Membership}); an admin's call only, when access
     * control is on. Answers with the members as this node (the leader) sees them afterwards.
     */
    @Override
    public CompletableFuture<io.holdfast.core.ClusterInfo> changeMembers(
            String identity, io.holdfast.core.MembershipChange change) {
        if (change == null) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException("no change given"));
        }
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        if (!isAdmin(identity)) {
            return CompletableFuture.failedFuture(new io.holdfast.PermissionDeniedException(
                    (identity == null ? "an unauthenticated client" : "identity " + identity)
                            + " may not change the members: that needs admin"));
        }
        return membership
                .change(change)
                .handle((done, error) -> {
                    audit.membersChanged(
                            duties.clusterNow(),
                            identity,
                            change.describe(),
                            error == null ? "ok" : HoldfastServer.rootMessage(error));
                    if (error != null) {
                        throw error instanceof java.util.concurrent.CompletionException c
                                ? c
                                : new java.util.concurrent.CompletionException(error);
                    }
                    return done;
                })
                .thenCompose(done -> cluster());
    }

    /**
     * A consistent copy of the table for {@code holdfast backup}: on the leader, after a read
     * barrier, so it holds every write acknowledged before the call. Admin only when access control
     * is on.
     */
    @Override
    public CompletableFuture<io.holdfast.core.TableCopy> backup(String identity) {
        if (!isAdmin(identity)) {
            return CompletableFuture.failedFuture(new io.holdfast.PermissionDeniedException(
                    (identity == null ? "an unauthenticated client" : "identity " + identity)
                            + " may not take a backup: that needs admin"));
        }
        return afterBarrier(machine::backup);
    }

    /** Whether this replica knows the session. */
    boolean hasSession(String sessionId) {
        return machine.read(t -> t.hasSession(sessionId));
    }

    /** Milliseconds of cluster time, as this node's clock has it. */
    long clusterNowMillis() {
        return duties.clusterNow();
    }

    /** Whether the identity is an admin (or access control is off). */
    boolean isAdmin(String identity) {
        return rulesPending() == null && machine.read(t -> t.isAdmin(identity));
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

    io.holdfast.core.AccessRules accessRules() {
        return machine.read(t -> t.accessRules());
    }

    /** The audit trail this replica has applied (latest entries). */
    List<AuditLog.Entry> audit() {
        return audit.entries();
    }

    /** Refusals by quota and of permission, on this replica since it started. */
    Map<String, Long> refusals() {
        return machine.read(t -> t.refusals());
    }

    boolean isLeader() {
        return duties.isActive();
    }

    /** Writes one entry through Raft; completes with the entry's reply bytes. */
    private CompletableFuture<byte[]> write(byte[] entry) {
        long start = System.nanoTime();
        return send(RaftClientRequest.writeRequestType(), entry).thenApply(reply -> {
            metrics.raftCommit(System.nanoTime() - start);
            return reply.getMessage().getContent().toByteArray();
        });
    }

    /**
     * A linearizable read: Ratis's read barrier, then this leader's lease checked. Ratis answers
     * the barrier at once when nothing was committed since the last round a majority
     * acknowledged; a leader deposed since (cut off, or paused) would then read a table that
     * misses what a newer leader committed. Holding the lease after the barrier rules a newer
     * leader out (see {@link #keepAlive}).
     */
    private <T> CompletableFuture<T> afterBarrier(Supplier<T> read) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(notLeaderError());
        }
        return send(RaftClientRequest.readRequestType(), new byte[0]).thenApply(reply -> {
            if (!holdsLease()) {
                throw new java.util.concurrent.CompletionException(noLease("serve a read that must be current"));
            }
            return read.get();
        });
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

    /**
     * A member's client address: the one its Raft configuration entry carries (members added while
     * the cluster runs are known only there), else the one given at start.
     */
    private String clientAddress(RaftPeer peer) {
        String address = peer.getClientAddress();
        return address == null || address.isEmpty() ? clientAddresses.get(peer.getId()) : address;
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
        String address = null;
        if (leader != null && !leader.equals(selfId)) {
            try {
                RaftPeer peer = server.getDivision(groupId)
                        .getRaftConf()
                        .getPeer(
                                leader,
                                org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER,
                                org.apache.ratis.proto.RaftProtos.RaftPeerRole.LISTENER);
                address = peer == null ? clientAddresses.get(leader) : clientAddress(peer);
            } catch (IOException | RuntimeException e) {
                address = clientAddresses.get(leader);
            }
        }
        return new NotLeaderException(
                why + (address == null ? "; the leader is not known yet" : "; the leader is at " + address), address);
    }
}
