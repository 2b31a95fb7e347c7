package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.server.config.RaftTransport;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.junit.jupiter.api.Test;

/**
 * A follower that was down long enough for the leader's appender to it to back off as far as it
 * goes catches up within 2 s of its restart (from the moment it is up), while writes go on. The
 * appender waits between failed attempts by {@code raft.server.log.appender.retry.policy}, and an
 * INCONSISTENCY reply (the restarted follower's log is behind) counts as a failure too. With
 * Ratis's default ("1ms,10, 1s,20, 5s,1000": 2.5 to 7.5 s per wait after 30 failures in a row) the
 * follower, up again, waits out the wait under way, then one more after its first answer: it
 * caught up 12 s after its restart, and the test fails.
 *
 * <p>Over the Netty transport ({@code -Dholdfast.raftTransport=netty}) the leader's appender is
 * Ratis's {@code LogAppenderDefault}, which waits {@code raft.server.rpc.sleep.time} after every
 * failure however many there were and counts none: the follower is down 5 s instead.
 *
 * <p>Runs about 15 s with the node's policy (31 failed appends come within a few seconds of the
 * stop), about 35 s with Ratis's default.
 */
class HealCatchUpTest {
    /** Consecutive errors after which Ratis's default policy is in its 5 s stage (10 + 20, and one). */
    private static final long ERRORS = 31;

    private static final Duration WITHIN = Duration.ofSeconds(2);

    @Test
    void aFollowerDownPastTheLongestRetryWaitCatchesUpWithinTwoSecondsOfItsRestart() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int follower = (leader + 1) % 3;
            String leaderId = "n" + (leader + 1);
            LockClient client = cluster.open(ClientOptions.builder()
                    .sessionTtl(Duration.ofSeconds(30))
                    .requestTimeout(Duration.ofSeconds(10))
                    .build());
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicLong writes = new AtomicLong();
            Thread writer = new Thread(
                    () -> {
                        while (writing.get()) {
                            try {
                                client.lock("heal/" + writes.get() % 8)
                                        .acquire(Duration.ofSeconds(5))
                                        .release();
                                writes.incrementAndGet();
                            } catch (RuntimeException e) {
                                // a slow moment of the cluster: the next write tries again
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return;
                            }
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // pace, not a wait
                        }
                    },
                    "heal-writer");
            writer.setDaemon(true);
            writer.start();
            try {
                awaitUntil(Duration.ofSeconds(10), () -> writes.get() >= 5, "the first writes");
                long before = appenderErrors(leaderId);
                cluster.stop(follower);

                if (RaftTransport.configured() == RaftTransport.GRPC) {
                    // Down until the appender to it has failed ERRORS times in a row (Ratis's default
                    // policy waits 5 s from then on), and then started again right after a failed
                    // attempt, so that the wait the appender starts then overlaps the restart.
                    awaitUntil(
                            Duration.ofSeconds(60),
                            () -> appenderErrors(leaderId) - before >= ERRORS,
                            ERRORS + " failed appends to the stopped follower");
                    long seen = appenderErrors(leaderId);
                    awaitUntil(Duration.ofSeconds(15), () -> appenderErrors(leaderId) > seen, "the next failed append");
                } else {
                    // Netty's appender keeps no count of its failures and waits the same between
                    // them however many there were: down as long as gRPC's takes to fail 31 times.
                    long stopped = System.nanoTime();
                    awaitUntil(
                            Duration.ofSeconds(10),
                            () -> System.nanoTime() - stopped >= TimeUnit.SECONDS.toNanos(5),
                            "5 s down");
                }
                cluster.start(follower);
                long restart = System.nanoTime(); // the node is up: from here on it can catch up
                long target = cluster.node(leader)
                        .parts()
                        .service()
                        .cluster()
                        .get(5, TimeUnit.SECONDS)
                        .commitIndex();

                long[] caughtUpAfter = new long[3];
                java.util.Arrays.fill(caughtUpAfter, -1);
                long deadline = restart + Duration.ofSeconds(15).toNanos();
                while (System.nanoTime() < deadline
                        && java.util.Arrays.stream(caughtUpAfter).anyMatch(t -> t < 0)) {
                    for (int i = 0; i < 3; i++) {
                        if (caughtUpAfter[i] < 0 && cluster.node(i).status().appliedIndex() >= target) {
                            caughtUpAfter[i] = (System.nanoTime() - restart) / 1_000_000;
                        }
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                }
                String every = java.util.Arrays.toString(caughtUpAfter);
                for (int i = 0; i < 3; i++) {
                    assertThat(caughtUpAfter[i])
                            .as(
                                    "ms from the restart of n%d until n%d reached the leader's commit index %d as of"
                                            + " the restart (-1: not within 15 s); every node: %s",
                                    follower + 1, i + 1, target, every)
                            .isBetween(0L, WITHIN.toMillis());
                }
            } finally {
                writing.set(false);
                writer.join(TimeUnit.SECONDS.toMillis(20));
            }
        }
    }

    /**
     * The leader's count of failed appendEntries calls (Ratis's {@code num_retries} of its {@code
     * ratis_grpc} {@code log_appender} metrics): with one follower stopped, its appender's errors.
     */
    private static long appenderErrors(String leaderId) {
        long count = 0;
        for (MetricRegistryInfo info : MetricRegistries.global().getMetricRegistryInfos()) {
            if ("ratis_grpc".equals(info.getApplicationName())
                    && "log_appender".equals(info.getMetricsComponentName())
                    && info.getPrefix().startsWith(leaderId + "@")) {
                count += MetricRegistries.global()
                        .get(info)
                        .map(r -> r.counter("num_retries").getCount())
                        .orElse(0L);
            }
        }
        return count;
    }

    private static void awaitUntil(Duration within, java.util.function.BooleanSupplier condition, String what) {
        org.awaitility.Awaitility.await(what)
                .atMost(within)
                .pollInterval(Duration.ofMillis(5))
                .until(condition::getAsBoolean);
    }
}
