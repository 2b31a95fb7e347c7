package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The leader's appender to a follower that is down waits between its attempts instead of turning
 * its loop without pause. Ratis's gRPC appender, once a send failed, took its missing stream for
 * something to send for the next minute ({@code raft.server.rpc.slowness.timeout}): 18,000 turns a
 * second, 13 to 18% of a core on the leader of a three-node cluster for every follower down
 * ({@code CommitCarrier#getWaitTimeMs} says why). This test reads the CPU time of the leader's
 * appender thread to a crashed follower over five seconds, with the servers' default election
 * timeout in a cluster (1 s): with the loop turning it took 398 to 659 ms (three runs), waiting
 * for its heartbeats 15 to 18 ms.
 */
class SilentFollowerAppenderTest {
    private static final Duration WINDOW = Duration.ofSeconds(5);
    /** Four times a waiting appender's CPU over the window, a fifth of a turning one's. */
    private static final Duration MOST = Duration.ofMillis(75);

    @Test
    void theAppenderToACrashedFollowerDoesNotTurnWithoutWaiting() throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadCpuTimeSupported()).isTrue();
        try (TestCluster cluster = new TestCluster(3, Duration.ofSeconds(1))) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int follower = (leader + 1) % 3;
            // Ratis names the appender's thread after it: "n1@group-…->n2-CommitCarrier-LogAppenderDaemon"
            String name = "n" + (leader + 1) + "@";
            String to = "->n" + (follower + 1) + "-CommitCarrier";
            cluster.crash(follower);
            // The turning began a few seconds after the crash (its first failed sends and their
            // retries come first): measured from the 4th second, 400 to 660 ms of CPU in 5 s.
            LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(4));

            List<Thread> appender = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith(name) && t.getName().contains(to))
                    .toList();
            assertThat(appender)
                    .as("the leader's appender to the crashed follower")
                    .hasSize(1);
            long id = appender.get(0).getId();
            long before = threads.getThreadCpuTime(id);
            LockSupport.parkNanos(WINDOW.toNanos()); // a window of real time: the CPU it takes is the point
            long used = threads.getThreadCpuTime(id) - before;

            assertThat(cluster.leaderIndex())
                    .as("the leader is still the leader")
                    .isEqualTo(leader);
            assertThat(Duration.ofNanos(used))
                    .as("CPU of the appender to a crashed follower over %s", WINDOW)
                    .isLessThan(MOST);
        }
    }
}
