package io.holdfast.server.membership;

import io.holdfast.Ticker;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.leadership.LeaderHandOver;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches Ratis stage a new member, and ends a staging that nothing drives.
 *
 * <p><b>Why.</b> Ratis 3.3's leader brings a new member up to date (stages it) before it logs the
 * configuration that counts it, and judges the member's progress only when its event queue stays
 * empty for an RPC timeout or the member's log advances. Under steady writes the queue is never
 * empty: a staged member that died, or whose log appender Ratis lost (a read of a log segment
 * that a snapshot's purge deleted meanwhile kills the appender, and Ratis restarts appenders only
 * for members its configuration counts), is staged for as long as the leader leads. The change
 * never answers, and every later one is refused "reconfiguration is already in progress" (CI
 * rehearsal of 2026-12-05, the verifier's membership scenario; {@code MembershipRecoveryTest}).
 *
 * <p><b>What it does.</b> While an addition is pending, from one staging timeout after it was sent
 * and every {@value #POLL_MILLIS} ms up to a bound: when this node still leads with a stable,
 * committed configuration (no joint configuration logged: Ratis is still staging) and the new
 * member has no log appender or has not answered it for a staging timeout ({@link #stalled}), this
 * node steps down (Ratis refuses a transfer while it stages; it takes a step-down), which ends its
 * leader state and the staging with it, and the change fails with {@link Abandoned}.
 *
 * <p><b>Guarantees.</b> A change fails so only after the staging was seen stalled, and the failure
 * says whether the members are as they were: they are when this node's configuration, read after it
 * stepped down, is stable and does not count the new member (only this node, as leader, could have
 * logged the change, and a step-down does not lose what it logged). <b>Does not</b> guarantee that
 * a new leader is elected in time, nor judge a staging whose member answers but never catches up
 * (Ratis's own rule stands there). Failure story: n4 is staged and its process is killed while
 * clients write steadily; six seconds later the leader logs one WARN line and steps down, a leader
 * is elected (it may be the same node), and {@code members add n4} is answered "no answer from
 * n4's Raft address … the members are as they were"; once n4 runs again, the same command adds it.
 */
final class StagingWatch {
    private static final Logger LOG = LoggerFactory.getLogger(StagingWatch.class);
    /** How often a pending addition's staging is looked at. */
    static final long POLL_MILLIS = 500;

    private StagingWatch() {}

    /** An addition ended by this watch: the member did not answer, or Ratis lost its appender. */
    static final class Abandoned extends IOException {
        private static final long serialVersionUID = 1L;
        /** Whether Ratis had no log appender to the new member (it was not silent: Ratis lost it). */
        final boolean lostAppender;
        /** Whether the members are as they were (this node's configuration does not count the member). */
        final boolean unchanged;

        Abandoned(String message, boolean lostAppender, boolean unchanged) {
            super(message);
            this.lostAppender = lostAppender;
            this.unchanged = unchanged;
        }
    }

    /**
     * Whether this node leads, with a stable and committed configuration, while every member it
     * replicates to that {@code staged} names has not answered for {@code silentAfterMillis}; true
     * also when it replicates to none of them (Ratis lost their appenders).
     */
    static boolean stalled(RaftServer.Division division, Predicate<String> staged, long silentAfterMillis) {
        try {
            RaftConfiguration conf = division.getRaftConf();
            if (!division.getInfo().isLeader()
                    || !conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty()
                    || division.getRaftLog().getLastCommittedIndex() < conf.getLogEntryIndex()) {
                return false;
            }
            return appenders(division).stream()
                    .filter(f -> staged.test(f.getId().getId().toStringUtf8()))
                    .allMatch(f -> f.getLastRpcElapsedTimeMs() > silentAfterMillis);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Ratis's staging timeout on this server (three RPC timeouts unless set). */
    static long stagingTimeoutMillis(RaftServer server) {
        return RaftServerConfigKeys.stagingTimeout(server.getProperties()).toLong(TimeUnit.MILLISECONDS);
    }

    /**
     * {@code change}'s outcome, or {@link Abandoned} when the staging of {@code added} stalls
     * within {@code within} of now (see the class comment).
     */
    static CompletableFuture<RaftClientReply> watch(
            RaftServer server,
            RaftGroupId group,
            RaftPeerId self,
            Ticker ticker,
            CompletableFuture<RaftClientReply> change,
            String added,
            Duration within) {
        long silentAfter = stagingTimeoutMillis(server);
        Watched w = new Watched(
                server, group, self, ticker, added, silentAfter, new CompletableFuture<>(), new AtomicBoolean());
        change.whenComplete((reply, error) -> {
            if (w.ending.get()) {
                return; // the step-down fails the change in Ratis; the watch says why
            }
            if (error != null) {
                w.result.completeExceptionally(error);
            } else {
                w.result.complete(reply);
            }
        });
        long first = silentAfter / POLL_MILLIS + 1;
        long last = Math.max(first, within.toMillis() / POLL_MILLIS);
        poll(w, 1, first, last);
        return w.result;
    }

    private record Watched(
            RaftServer server,
            RaftGroupId group,
            RaftPeerId self,
            Ticker ticker,
            String added,
            long silentAfter,
            CompletableFuture<RaftClientReply> result,
            AtomicBoolean ending) {}

    private static void poll(Watched w, long n, long first, long last) {
        CompletableFuture.delayedExecutor(POLL_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
            if (w.result.isDone() || n > last) {
                return;
            }
            RaftServer.Division division;
            try {
                division = w.server.getDivision(w.group);
            } catch (IOException e) {
                return;
            }
            if (n >= first
                    && stalled(division, w.added::equals, w.silentAfter)
                    && !w.ending.getAndSet(true)
                    && !w.result.isDone()) {
                DaemonThreads.thread(() -> end(w, division), "holdfast-staging-watch-" + w.self)
                        .start();
            } else {
                poll(w, n + 1, first, last);
            }
        });
    }

    /** Steps down to end the stalled staging, and fails the change saying what became of the members. */
    private static void end(Watched w, RaftServer.Division division) {
        boolean lost = appenders(division).stream()
                .noneMatch(f -> f.getId().getId().toStringUtf8().equals(w.added));
        String why = lost
                ? "Ratis lost its log appender to " + w.added + " while it staged it"
                : w.added + " has not answered the log appender for " + w.silentAfter + " ms";
        LOG.warn(
                "Node {} ends the staging of {} that nothing drives ({}): it steps down, and the addition fails",
                w.self,
                w.added,
                why);
        LeaderHandOver.stepDown(w.server, w.group, w.self, w.ticker, StuckLeader.HAND_OVER_TIMEOUT);
        boolean unchanged = false;
        try {
            RaftConfiguration conf = division.getRaftConf();
            Set<String> ids = new HashSet<>();
            for (RaftPeerRole role : List.of(RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)) {
                conf.getAllPeers(role).forEach(p -> ids.add(p.getId().toString()));
            }
            unchanged = conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty() && !ids.contains(w.added);
        } catch (RuntimeException e) {
            // unknown: reported as a change that may still take effect
        }
        w.result.completeExceptionally(new Abandoned(why, lost, unchanged));
    }

    private static List<ServerRpcProto> appenders(RaftServer.Division division) {
        return division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
    }
}
