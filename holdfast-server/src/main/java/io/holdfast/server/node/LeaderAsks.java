package io.holdfast.server.node;

import io.holdfast.Ticker;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.leadership.LeaderLink;
import io.holdfast.server.leadership.RaftGateway;
import io.holdfast.server.raft.LockStateMachine;
import io.holdfast.server.raft.TableQuery;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * What a member that does not lead asks of the leader for the sessions it serves (ADR 0003), over
 * the Raft port: the rounds of relayed heartbeats ({@link SessionRelay}), forwarded writes ({@link
 * WriteForwarding}) and read indexes ({@code LeaderReads}); with the links and threads they ask on.
 * Built once by {@link NodeParts}, closed with it.
 *
 * <p><b>Guarantees.</b> Heartbeat rounds have a link and a thread of their own, one round at a
 * time, so that a burst of writes never delays a round past its clients' hold. Writes and read
 * indexes share a second link, asked without blocking a thread ({@link LeaderLink#askAsync}) and
 * {@value #FORWARD_IN_FLIGHT} at a time, and a pool of {@value #FORWARD_THREADS} threads that read the leader's answers and hand out the
 * replies. A write's reply or a read waits at most {@value #CATCH_UP_MILLIS} ms for this member to
 * apply what it needs.
 *
 * <p><b>Does not</b> decide what an answer means: the relay, the forwarding and the reads do.
 */
final class LeaderAsks implements AutoCloseable {
    /** How often a member relays its clients' heartbeats to the leader (ADR 0003). */
    static final long RELAY_INTERVAL_MILLIS = 100;
    /** How long one try of a relayed round waits for a member's answer. */
    static final long RELAY_TIMEOUT_MILLIS = 1000;
    /** How long one try of a forwarded write or a read index waits for a member's answer. */
    static final long FORWARD_TIMEOUT_MILLIS = 2000;
    /**
     * How long a member waits to apply the leader's index that a forwarded write's reply or a read
     * needs before it tells its client to ask another member ({@code AppliedWaits#within}).
     */
    static final long CATCH_UP_MILLIS = 2000;
    /**
     * How long a member waits for the leader's answer to a forwarded write before it tells its
     * client to ask another member: with {@link #CATCH_UP_MILLIS}, within the clients' attempt
     * timeout (5 s by default in each client), so that a client is answered UNAVAILABLE and moves
     * on rather than waiting out its attempt. One try of {@link #FORWARD_TIMEOUT_MILLIS} and a
     * redirect fit in it; the link's further tries (up to 8 s in all for three members) do not.
     */
    static final long FORWARD_ANSWER_MILLIS = 2500;
    /**
     * Forwarded writes and read indexes that wait for the leader's answer at once; more wait their
     * turn at this member (as many as the threads that each waited for one before the link asked
     * without blocking).
     */
    static final int FORWARD_IN_FLIGHT = 16;
    /**
     * Threads that read the leader's answers to forwarded writes and read indexes and hand out
     * their replies: short tasks, none waiting on the leader.
     */
    static final int FORWARD_THREADS = 4;

    private final LeaderLink relayLink;
    private final ScheduledExecutorService relayTimer;
    private final ExecutorService relaySender;
    private final SessionRelay relay;
    private final LeaderLink forwardLink;
    private final ThreadPoolExecutor forwardPool;
    private final WriteForwarding forwarding;

    /**
     * @param knowsLeader whether this member knows of another member that leads
     * @param leadsHere whether this member serves as the leader now (its duties are active)
     * @param touchHere this member's own answer to a round ({@link Heartbeats#round}), for when it leads
     * @param followerExtendsTtl the planted bug follower-extends-ttl (verification only)
     */
    LeaderAsks(
            ServerConfig config,
            RaftServer raft,
            Ticker ticker,
            LockStateMachine machine,
            RaftGateway gateway,
            BooleanSupplier knowsLeader,
            BooleanSupplier leadsHere,
            Function<List<String>, TableQuery.TouchSessions.Answer> touchHere,
            boolean followerExtendsTtl) {
        String self = config.nodeId();
        this.forwardLink = new LeaderLink(
                raft,
                RaftSettings.GROUP_ID,
                RaftSettings.parameters(config),
                FORWARD_TIMEOUT_MILLIS,
                FORWARD_IN_FLIGHT);
        this.forwardPool = new ThreadPoolExecutor(
                FORWARD_THREADS,
                FORWARD_THREADS,
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                DaemonThreads.numbered("holdfast-forward-" + self));
        forwardPool.allowCoreThreadTimeOut(true);
        this.relayLink = new LeaderLink(
                raft, RaftSettings.GROUP_ID, RaftSettings.parameters(config), RELAY_TIMEOUT_MILLIS, 1, true);
        ScheduledThreadPoolExecutor timer =
                new ScheduledThreadPoolExecutor(1, DaemonThreads.named("holdfast-relay-" + self));
        // A read or reply that catches up in time cancels its bound: gone from the queue at once,
        // not 2 s later, however many reads a member serves.
        timer.setRemoveOnCancelPolicy(true);
        this.relayTimer = timer;
        this.forwarding = new WriteForwarding(
                self,
                forwardLink::askAsync,
                forwardPool,
                machine.appliedWaits(),
                gateway::notLeader,
                knowsLeader,
                relayTimer,
                CATCH_UP_MILLIS,
                FORWARD_ANSWER_MILLIS,
                ticker);
        this.relaySender = Executors.newSingleThreadExecutor(DaemonThreads.named("holdfast-relay-send-" + self));
        this.relay = new SessionRelay(
                self,
                ticker,
                relayTimer,
                relaySender,
                relayRound(
                        leadsHere,
                        touchHere,
                        ids -> TableQuery.TouchSessions.Answer.parse(
                                relayLink.ask(new TableQuery.TouchSessions(ids)), ids.size())),
                gateway::notLeader,
                RELAY_INTERVAL_MILLIS,
                2 * RaftServerConfigKeys.Rpc.timeoutMax(raft.getProperties()).toLong(TimeUnit.MILLISECONDS),
                gateway::hearsLeader);
        if (followerExtendsTtl) {
            relay.plantFollowerExtendsTtl(); // PLANTED BUG (verification only)
        }
    }

    /**
     * Where a round of this member's relay goes: to the leader over the link, or, once this member
     * leads itself, to its own verdicts, at once. Heartbeats that reached a member before it began
     * to lead wait in its relay; asking the link for them would send the round round-trip to itself,
     * or to the dead leader its link still believes in, for up to {@value #RELAY_TIMEOUT_MILLIS} ms,
     * while its clients' TTLs run (a 20,000-session kill on 2026-12-02: connections that moved to
     * the new leader had their first acknowledgement 0.8 to 1.7 s after those that moved to the other
     * survivor).
     */
    static Function<List<String>, Optional<TableQuery.TouchSessions.Answer>> relayRound(
            BooleanSupplier leadsHere,
            Function<List<String>, TableQuery.TouchSessions.Answer> touchHere,
            Function<List<String>, Optional<TableQuery.TouchSessions.Answer>> overLink) {
        return ids -> leadsHere.getAsBoolean() ? Optional.of(touchHere.apply(ids)) : overLink.apply(ids);
    }

    /** The relay of this member's clients' heartbeats. */
    SessionRelay relay() {
        return relay;
    }

    /** The forwarding of this member's clients' writes. */
    WriteForwarding forwarding() {
        return forwarding;
    }

    /** Asks the leader on the link of forwarded writes: what read indexes use. */
    Function<TableQuery, CompletableFuture<ByteString>> forwardLink() {
        return forwardLink::askAsync;
    }

    /**
     * The timer of the relay's rounds, which also bounds how long a forwarded write or a read waits
     * for this member to catch up ({@link #CATCH_UP_MILLIS}): a few cheap tasks beside the rounds.
     */
    ScheduledExecutorService timer() {
        return relayTimer;
    }

    /** Where forwarded writes and read indexes block, and where their answers are handed out. */
    Executor forwardPool() {
        return forwardPool;
    }

    @Override
    public void close() {
        relay.close();
        relayTimer.shutdownNow();
        relaySender.shutdownNow();
        relayLink.close();
        forwardLink.close();
        forwardPool.shutdownNow();
    }
}
