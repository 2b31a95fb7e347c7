package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import io.holdfast.internal.DaemonThreads;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.ConnectException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A follower whose leader's process has died starts an election at once, instead of waiting out
 * its election timeout (one to two of them: 1 to 2 s by default) for heartbeats that can no longer
 * come.
 *
 * <p><b>How it knows.</b> Each voting follower holds one idle TCP connection to its leader's Raft
 * address (it never sends a byte on it, so it costs the leader a socket and nothing else). When the
 * leader's process ends, whatever ends it (SIGKILL, the OOM killer, a crash of the JVM), its kernel
 * closes that connection at once. The follower then dials the leader's Raft address three times,
 * {@value #CONFIRM_PAUSE_MILLIS} ms apart, and takes the leader for dead only if every one of them
 * is refused, or accepted and closed within {@value RaftPortProbe#PROBE_MILLIS} ms without a byte (what a proxy
 * or load balancer in front of a dead process does). A live leader's Raft server accepts a
 * connection and keeps it open, even when the leader is paused, overloaded or stopped (the kernel
 * accepts for a stopped process); a leader behind a silent network cannot be reached at all (the
 * dial times out). In none of those cases is an election started here: they are left to the
 * election timeout, as before.
 *
 * <p><b>Why that is safe.</b> An early election never breaks Raft's safety, which does not rest on
 * time. What does rest on time is the leader's lease ({@link RaftGateway#holdsLease}): a leader
 * answers heartbeats for 90% of the shortest election timeout after its majority last answered,
 * because no other member can be elected sooner. That holds here too, because the election starts
 * only once the old leader's process is gone, so nothing answers on its lease. Reads never rest on
 * the lease alone (Ratis's read barrier comes first).
 *
 * <p><b>Who starts it.</b> Before it campaigns, the follower asks the other voters (the dead leader
 * left out) for their last log entries with a pre-vote request, which changes nothing at a voter.
 * {@link Candidacy} decides from the answers: the follower whose log is furthest (ties to the first
 * by id) campaigns at once, unless it is still applying a long stretch of its log; the others
 * leave it the election, and one as far as it campaigns itself if it has not within a short wait
 * (asked once more then, a peer whose term has moved on is campaigning, and is left to it).
 * A follower whose log is behind never campaigns: the others would refuse it, and the election
 * timeout would decide after all. The one that would campaign at once asks again after {@value
 * #SETTLE_MILLIS} ms, in case the dead leader's last append was still on its way to a voter.
 * The election is asked of this node's own Raft server through Ratis's {@code
 * startLeaderElection} (the call a leader makes on the follower it hands over to), naming the dead
 * leader and this follower's own last log entry: Ratis accepts it only while this node follows that
 * leader in a term no newer than that entry's, and then campaigns at once, without a pre-vote.
 *
 * <p>While its leader lives, a follower asks the other voters once ({@link PreVotes#warm}): Ratis's
 * channels to them are open before the asks and votes of a death need them. <b>Does not</b> speed up anything but a dead process: a host that loses power, or a network
 * that goes silent, still costs an election timeout; nor a failover in which the only follower
 * whose log is furthest did not see the leader die (its connection went through a path that stays
 * silent), or campaigned and lost: the others leave it the election, and the timeout decides.
 *
 * <p>Failure story: n1 leads n2 and n3 (election timeout 1 s); the OOM killer ends n1's JVM. n2's
 * and n3's connections to n1's Raft port end within a millisecond; three dials to n1 are refused
 * within about 40 ms; n2 and n3 ask each other for their last log entries, find them equal, and n2
 * (first by id) logs "Node n2 starts an election at once: its leader n1 is gone ..." and is elected by n3 in one round trip and an fsync, about 100 ms after the kill, where its
 * election timeout alone would have fired 1 to 2 s after n1's last heartbeat.
 */
public final class DeadLeaderWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLeaderWatch.class);

    /** The pause between the dials that confirm a death. */
    static final int CONFIRM_PAUSE_MILLIS = 20;
    /** The dials that must all fail before the leader is taken for dead. */
    static final int CONFIRMATIONS = 3;
    /** The pause before a follower that would campaign looks at the other voters' logs once more. */
    static final int SETTLE_MILLIS = 50;
    /** How often a follower that waits for another's campaign looks at its own term and leader. */
    private static final long WAIT_POLL_MILLIS = 20;
    /** How long a read on the held connection waits before the role is looked at again. */
    private static final int LINK_READ_MILLIS = 100;
    /** The pause when there is nothing to watch (this node leads, or knows no leader). */
    private static final long IDLE_MILLIS = 50;

    /** What a follower watches: its leader in a term, at an address. */
    record Target(RaftPeerId leader, long term, String address) {}

    private final RaftGateway gateway;
    private final Ticker ticker;

    private final Thread thread;
    /** Where the other voters are asked for their last entries, in parallel. */
    private final ExecutorService askers;

    private volatile boolean closed;
    private Socket link;
    private Target linked;
    private Target lastElection;

    private DeadLeaderWatch(RaftGateway gateway, Ticker ticker) {
        this.gateway = gateway;
        this.ticker = ticker;
        this.thread =
                DaemonThreads.named("holdfast-dead-leader-" + gateway.selfId()).newThread(this::run);
        this.askers =
                Executors.newCachedThreadPool(DaemonThreads.named("holdfast-dead-leader-ask-" + gateway.selfId()));
    }

    /** Starts watching this node's leader, for as long as this node is a voting follower. */
    public static DeadLeaderWatch start(RaftGateway gateway, Ticker ticker) {
        DeadLeaderWatch watch = new DeadLeaderWatch(gateway, ticker);
        // -Dholdfast.raft.deadLeaderWatch=false (tests only): a follower that never sees its leader die.
        if (Boolean.parseBoolean(System.getProperty("holdfast.raft.deadLeaderWatch", "true"))) {
            watch.thread.start();
        }
        return watch;
    }

    private void run() {
        try {
            while (!closed) {
                try {
                    step();
                } catch (IOException | RuntimeException e) {
                    LOG.debug("Node {}: the watch of its leader failed; it goes on", gateway.selfId(), e);
                    closeLink();
                    pause(IDLE_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            // closed
        } finally {
            closeLink();
        }
    }

    private void step() throws IOException, InterruptedException {
        Optional<Target> target = target();
        if (target.isEmpty()) {
            closeLink();
            pause(IDLE_MILLIS);
            return;
        }
        Target t = target.get();
        if (link == null || !t.equals(linked)) {
            closeLink();
            RaftPortProbe.Result opened = open(t);
            if (opened == RaftPortProbe.Result.GONE) {
                leaderEnded(t);
            } else if (opened == RaftPortProbe.Result.UNKNOWN) {
                pause(IDLE_MILLIS);
            } else {
                PreVotes.warm(gateway, askers, otherVoters(t)); // Ratis's channels open before a death needs them
            }
            return;
        }
        if (linkEnded()) {
            closeLink();
            leaderEnded(t);
        }
    }

    /**
     * The held connection ended (or its dial failed): confirms the death, asks the other voters
     * which follower should campaign ({@link Candidacy}), then campaigns at once, after a wait in
     * which nobody else did, or not at all.
     */
    private void leaderEnded(Target t) throws IOException, InterruptedException {
        if (t.equals(lastElection) || !gone(t.address())) {
            pause(IDLE_MILLIS);
            return;
        }
        lastElection = t;
        long started = ticker.nanos();
        List<String> voters = otherVoters(t);
        Map<String, RequestVoteReplyProto> answers = PreVotes.ask(gateway, askers, voters);
        Set<String> silent = new TreeSet<>(voters);
        silent.removeAll(answers.keySet());
        Candidacy.Plan plan = plan(answers, silent);
        if (plan.now()) {
            // The dead leader's last append may still be on its way to a voter: look again once,
            // after a pause, asking only those that answered (the silent would cost the wait again).
            if (!pause(SETTLE_MILLIS)) {
                return;
            }
            plan = plan(PreVotes.ask(gateway, askers, answers.keySet()), silent);
        }
        if (!plan.now()) {
            LOG.info("Node {} found its leader {} gone and {}", gateway.selfId(), t.leader(), plan.why());
        }
        if (plan.handTo() != null) {
            String peer = plan.handTo();
            RequestVoteReplyProto answer = answers.get(peer);
            // Its wait below counts from now, not from the peer's answer.
            askers.execute(() -> ElectionStarts.handOver(gateway, t.leader(), peer, answer.getLastEntry()));
        }
        if (plan.never() || !nobodyCampaignsWithin(t, plan.waitMillis())) {
            return; // left to another, or a campaign has begun meanwhile (a newer term), or a leader was found
        }
        if (!plan.now()) {
            // The peer it waited for may have campaigned without its vote request reaching this node
            // yet (a loaded machine): its term has moved on, which a pre-vote answer tells. Two
            // campaigns in one term split the vote and cost a whole election timeout.
            // A silent voter waited for is asked too: by now it may answer, from its campaign's term.
            Set<String> askAgain = new TreeSet<>(answers.keySet());
            Candidacy.silentFirst(gateway.selfId().toString(), silent).ifPresent(askAgain::add);
            Candidacy.Plan again = plan(PreVotes.ask(gateway, askers, askAgain), Set.of());
            if (again.never()) {
                LOG.info("Node {} waited for a campaign and found one: it {}", gateway.selfId(), again.why());
                return;
            }
        }
        boolean accepted = campaign(t);
        if (accepted) {
            LOG.info(
                    "Node {} starts an election {}: its leader {} is gone (nothing served {} dials of {} in a"
                            + " row; {} ms since)",
                    gateway.selfId(),
                    plan.now() ? "at once" : "since nobody else did",
                    t.leader(),
                    CONFIRMATIONS,
                    t.address(),
                    TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - started));
        } else {
            LOG.info(
                    "Node {} found its leader {} gone, but Raft did not start an election at once (a newer term or"
                            + " leader); its election timeout will",
                    gateway.selfId(),
                    t.leader());
        }
    }

    /** What this node does according to {@link Candidacy}, given the voters' answers. */
    private Candidacy.Plan plan(Map<String, RequestVoteReplyProto> answers, Set<String> silent) throws IOException {
        RaftServer.Division division = gateway.division();
        TermIndex mine = division.getRaftLog().getLastEntryTermIndex();
        // Committed, not applied: what it must apply before it serves as leader.
        long applied = division.getInfo().getLastAppliedIndex();
        long unapplied = Math.max(0, division.getRaftLog().getLastCommittedIndex() - applied);
        return Candidacy.plan(
                mine,
                gateway.selfId().toString(),
                division.getInfo().getCurrentTerm(),
                unapplied,
                ManagementFactory.getRuntimeMXBean().getUptime(),
                answers,
                silent);
    }

    /**
     * Waits up to {@code millis} for a sign that another follower campaigned (this node's term or
     * leader moved on): true if none came and this node still follows {@code t}.
     */
    private boolean nobodyCampaignsWithin(Target t, long millis) throws IOException, InterruptedException {
        long deadline = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (target().filter(t::equals).isPresent()) {
            if (ticker.nanos() - deadline >= 0) {
                return true;
            }
            if (!pause(WAIT_POLL_MILLIS)) {
                return false;
            }
        }
        return false;
    }

    /** The voters but this node and the dead leader, by id. */
    private List<String> otherVoters(Target t) throws IOException {
        return gateway.division().getRaftConf().getCurrentPeers().stream()
                .map(RaftPeer::getId)
                .filter(id -> !id.equals(t.leader()) && !id.equals(gateway.selfId()))
                .map(RaftPeerId::toString)
                .toList();
    }

    /** This node's leader while it is a voting follower of one that votes too; else empty. */
    private Optional<Target> target() throws IOException {
        RaftServer.Division division = gateway.division();
        DivisionInfo info = division.getInfo();
        if (!info.isFollower()) {
            return Optional.empty();
        }
        RaftPeerId leader = info.getLeaderId();
        if (leader == null || leader.equals(gateway.selfId())) {
            return Optional.empty();
        }
        RaftConfiguration conf = division.getRaftConf();
        RaftPeer peer = voter(conf, leader);
        if (peer == null || voter(conf, gateway.selfId()) == null || peer.getAddress() == null) {
            return Optional.empty();
        }
        return Optional.of(new Target(leader, info.getCurrentTerm(), peer.getAddress()));
    }

    private static RaftPeer voter(RaftConfiguration conf, RaftPeerId id) {
        return conf.getCurrentPeers().stream()
                .filter(p -> p.getId().equals(id))
                .findFirst()
                .orElse(null);
    }

    /** Asks this node's Raft server to campaign now, as its dead leader would have on a hand-over. */
    private boolean campaign(Target t) throws IOException {
        TermIndex last = gateway.division().getRaftLog().getLastEntryTermIndex();
        return last != null && ElectionStarts.campaign(gateway, t.leader(), last);
    }

    /** Dials the leader and holds the connection; what the dial showed. */
    private RaftPortProbe.Result open(Target t) {
        Socket s = new Socket();
        try {
            s.connect(RaftPortProbe.address(t.address()), RaftPortProbe.CONNECT_MILLIS);
            s.setSoTimeout(LINK_READ_MILLIS);
            link = s;
            linked = t;
            return RaftPortProbe.Result.SERVES;
        } catch (ConnectException e) {
            closeQuietly(s);
            return RaftPortProbe.Result.GONE;
        } catch (IOException | IllegalArgumentException e) {
            closeQuietly(s);
            return RaftPortProbe.Result.UNKNOWN;
        }
    }

    /** Reads the held connection for a while: true if it has ended (closed or reset). */
    private boolean linkEnded() {
        try {
            InputStream in = link.getInputStream();
            byte[] drain = new byte[512];
            int n = in.read(drain);
            return n < 0;
        } catch (SocketTimeoutException e) {
            return false; // open and quiet: the usual case
        } catch (IOException e) {
            return true; // reset
        }
    }

    /** Whether nothing serves at {@code address}: {@value #CONFIRMATIONS} dials in a row say so. */
    private boolean gone(String address) throws InterruptedException {
        for (int i = 0; i < CONFIRMATIONS; i++) {
            if (i > 0 && !pause(CONFIRM_PAUSE_MILLIS)) {
                return false;
            }
            if (RaftPortProbe.dial(address) != RaftPortProbe.Result.GONE) {
                return false;
            }
        }
        return true;
    }

    private boolean pause(long millis) throws InterruptedException {
        if (closed) {
            return false;
        }
        Thread.sleep(millis);
        return !closed;
    }

    private void closeLink() {
        closeQuietly(link);
        link = null;
        linked = null;
    }

    private static void closeQuietly(Socket s) {
        if (s == null) {
            return;
        }
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        askers.shutdownNow();
    }

    @Override
    public String toString() {
        return "DeadLeaderWatch[" + gateway.selfId() + ", " + Objects.requireNonNullElse(linked, "no link") + "]";
    }
}
