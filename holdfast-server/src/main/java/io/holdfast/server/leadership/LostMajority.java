package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A leader cut off from its majority steps down by itself, on time: once no majority of its voters
 * has answered it for {@link #stepDownMillis}, its lease and then a longest election timeout (its
 * lease check, {@link RaftGateway#holdsLease}, has then failed for a whole longest election
 * timeout without a break), it asks Ratis to step down (Ratis's step-down admin call, a leadership
 * transfer to nobody). Ratis then fails the writes waiting on it with NOT_LEADER, and answers the
 * writes sent to it from then on with NOT_LEADER at once: clients go and find the new leader.
 *
 * <p><b>Why Ratis's own step-down is not enough (Ratis 3.3).</b> Ratis's leader checks for lost
 * heartbeats ({@code LeaderStateImpl.checkLeadership}) only when its event queue has stayed empty
 * for a whole longest election timeout ({@code EventQueue.poll}), and steps down only when no
 * majority answered within that timeout. Idle, that is one to two longest timeouts after the last
 * answer; but each write the cut-off leader appends queues an event (its own log flush) and starts
 * that wait again, so writes arriving less than a longest timeout apart keep it from checking at
 * all. Measured with a 3 s shortest (6 s longest) timeout and a write every 5 s: Ratis stepped down
 * 21.7 s after the cut, and the first write waited all that time. Here the same rule is checked
 * every {@link #periodMillis}, whatever Ratis's event queue holds, with the lease added: a leader
 * whose followers answer late on a loaded machine (a second's pause is common there) is not
 * deposed for it alone; with the longest election timeout alone as the bound, a loaded CI run saw
 * leaders of 400-800 ms clusters step down 812 ms after the last answer, in the middle of a
 * membership change.
 *
 * <p><b>Its own pauses are not its followers' silence.</b> A leader whose own JVM stood still (a
 * collection of seconds, or a host that did not run it) heard nothing meanwhile, however promptly
 * its followers answered: their answers wait in its sockets. So the silence that deposes it is
 * counted only over the time it ran: once a check comes more than a lease after the one before
 * (the node stood still), the silence counts from that check, and a leader that its followers
 * answer once it runs again stays. Measured (docs/benchmarks.md, 100,000 sessions, 2026-11-30):
 * n1, elected, stood still 2.4 s in a full collection, and stepped down 1.2 s after it ran again,
 * "no majority of its voters has answered it for 2930 ms", which cost the failover 3.5 s more
 * (another election). A leader cut off for good steps down a {@code stepDownMillis} after its
 * last pause instead of after the cut; its lease check refuses heartbeats and reads all along.
 *
 * <p><b>Guarantees.</b> The check runs every {@link #periodMillis} (at most 100 ms), so a leader
 * that no majority answers steps down within {@code stepDownMillis} and a period of the last
 * majority's answer (or of its own last pause), whatever its clients send it, unless this node's
 * threads do not run at all (then Ratis's own check is late as well). It asks once per term and
 * logs one WARN line saying so. A leader that a majority answers within its lease and a longest
 * election timeout never steps down here; a single voter never does.
 *
 * <p><b>Does not</b> decide who leads next (the members that can reach each other elect one, as
 * after a crash), nor step down a leader that a majority answers late but within the longest
 * election timeout and its lease (it refuses heartbeats and reads past its lease meanwhile).
 *
 * <p>Failure story: n1 leads n2 and n3 with a 3 s election timeout (6 s the longest); a switch
 * fails and cuts n1 off. At 2.7 s n1 refuses heartbeats and reads (its lease); n2 and n3 elect n2
 * within their election timeout; at 8.7 s n1 logs "Node n1 steps down: no majority of its voters has
 * answered it for 8712 ms …", and a client still writing to n1 is told NOT_LEADER and goes to n2.
 * Without this, a client writing to n1 every 5 s kept it leader, and waiting, for 21.7 s.
 */
public final class LostMajority implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LostMajority.class);

    private final RaftGateway gateway;
    private final long stepDownMillis;
    private final Ticker ticker;
    private final Silence silence;
    private final ScheduledExecutorService timer;
    private final ClientId clientId = ClientId.randomId();
    /** The term in which this node last asked to step down; -1 again when the call failed. */
    private volatile long askedInTerm = -1;

    private LostMajority(RaftGateway gateway, long stepDownMillis, Ticker ticker) {
        this.gateway = gateway;
        this.stepDownMillis = stepDownMillis;
        this.ticker = ticker;
        this.silence = new Silence(RaftGateway.leaseMillis(gateway.server().getProperties()));
        this.timer = Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("holdfast-lost-majority-" + gateway.selfId()));
    }

    /** Starts checking this node's leadership every {@link #periodMillis}. */
    public static LostMajority start(RaftGateway gateway, Ticker ticker) {
        RaftProperties properties = gateway.server().getProperties();
        LostMajority watch = new LostMajority(gateway, stepDownMillis(properties), ticker);
        long period = periodMillis(properties);
        watch.timer.scheduleWithFixedDelay(watch::check, period, period, TimeUnit.MILLISECONDS);
        return watch;
    }

    /**
     * How long no majority may have answered a leader before it steps down: its lease ({@link
     * RaftGateway#leaseMillis(RaftProperties)}) and then the longest election timeout, the time
     * Ratis's own check allows.
     */
    static long stepDownMillis(RaftProperties properties) {
        return RaftGateway.leaseMillis(properties)
                + RaftServerConfigKeys.Rpc.timeoutMax(properties).toLong(TimeUnit.MILLISECONDS);
    }

    /** How often the leadership is checked: a twentieth of the shortest election timeout, 10 to 100 ms. */
    static long periodMillis(RaftProperties properties) {
        long min = RaftServerConfigKeys.Rpc.timeoutMin(properties).toLong(TimeUnit.MILLISECONDS);
        return Math.max(10, Math.min(100, min / 20));
    }

    private void check() {
        try {
            long since = silence.heard(ticker.nanos(), gateway.sinceMajorityAnswered());
            if (since < stepDownMillis || since == Long.MAX_VALUE) {
                // Not the leader (-1), a majority answered recently enough, or Ratis reports no
                // follower yet (a leader whose leader state is still being set up): nothing to judge.
                return;
            }
            RaftServer.Division division = gateway.division();
            long term = division.getInfo().getCurrentTerm();
            long led = division.getInfo().getRoleInfoProto().getRoleElapsedTimeMs();
            if (term == askedInTerm || led < stepDownMillis) {
                return; // asked already; or leads too briefly for its voters to have been silent that long
            }
            askedInTerm = term;
            LOG.warn(
                    "Node {} steps down: no majority of its voters has answered it for {} ms, longer than its lease and"
                            + " its longest election timeout ({} ms); writes sent to it are answered NOT_LEADER",
                    gateway.selfId(),
                    since,
                    stepDownMillis);
            stepDown().whenComplete((reply, error) -> {
                if (error != null || !reply.isSuccess()) {
                    askedInTerm = -1; // the next check asks again
                    LOG.warn(
                            "Node {} could not step down: {}",
                            gateway.selfId(),
                            error != null
                                    ? Causes.rootMessage(error)
                                    : reply.getException() == null
                                            ? "Ratis gave no reason"
                                            : Causes.rootMessage(reply.getException()));
                }
            });
        } catch (IOException | RuntimeException e) {
            LOG.debug("Leadership check of node {} failed", gateway.selfId(), e);
        }
    }

    /**
     * The followers' silence as this node could have heard it: Ratis's figure, but not longer than
     * the time since this node last stood still (a check more than a lease after the one before).
     * One per node, fed by the checks, in order, on the timer's thread.
     */
    static final class Silence {
        private final long stallNanos;
        private long lastCheck;
        private long resumedAt;
        private boolean checked;
        private boolean stalled;

        Silence(long leaseMillis) {
            this.stallNanos = TimeUnit.MILLISECONDS.toNanos(leaseMillis);
        }

        /**
         * The silence to judge at a check at {@code nowNanos}, given Ratis's {@code sinceMajority}
         * ({@link RaftGateway#sinceMajorityAnswered}: -1 when not leading, {@link Long#MAX_VALUE}
         * when no majority ever answered), which are returned as they are.
         */
        long heard(long nowNanos, long sinceMajority) {
            if (checked && nowNanos - lastCheck > stallNanos) {
                resumedAt = nowNanos;
                stalled = true;
            }
            checked = true;
            lastCheck = nowNanos;
            if (sinceMajority < 0 || sinceMajority == Long.MAX_VALUE || !stalled) {
                return sinceMajority;
            }
            return Math.min(sinceMajority, TimeUnit.NANOSECONDS.toMillis(nowNanos - resumedAt));
        }
    }

    /** Ratis's step-down: a leadership transfer to nobody, as Ratis's shell's {@code election stepDown} sends. */
    private CompletableFuture<RaftClientReply> stepDown() throws IOException {
        TransferLeadershipRequest request =
                new TransferLeadershipRequest(clientId, gateway.selfId(), gateway.groupId(), 0, null, stepDownMillis);
        return gateway.server().transferLeadershipAsync(request);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
