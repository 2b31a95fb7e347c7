package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.model.Command;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.TestCluster;
import io.holdfast.server.node.RaftLockService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A leader cut off from both its followers, to which writes keep coming, steps down within 4.5 s of
 * the cut ({@link LostMajority}: it steps down once no majority has answered it for its lease and
 * the longest election timeout, 0.9 + 2 s here), and a write sent to it then fails at once with
 * NOT_LEADER.
 *
 * <p>The writes come 1.2 s apart, less than the longest election timeout (2 s): each one the leader
 * appends queues an event in Ratis's leader, which checks for lost heartbeats only after its
 * event queue stayed empty for a longest election timeout. Without {@link LostMajority}, Ratis
 * stepped down only about two seconds after the fourth write (the proposer sends at most four
 * entries at once), 5.7 s or more after the cut, and the test fails. Runs about 10 s.
 */
class LostMajorityTest {
    /** The shortest election timeout; Ratis's longest is twice that. */
    private static final Duration TIMEOUT = Duration.ofSeconds(1);

    /** The lease (0.9 s), the longest election timeout (2 s) and 1.6 s for the checks and the load. */
    private static final Duration BOUND = Duration.ofMillis(4500);

    private static final Duration WRITES_APART = Duration.ofMillis(1200);
    private static final int WRITES = 4;

    @Test
    void aLeaderCutOffWhileWritesComeStepsDownOnTimeAndRefusesWritesAtOnce() throws Exception {
        try (TestCluster cluster = new TestCluster(3, TIMEOUT)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(30));
            HoldfastServer node = cluster.node(leader);
            RaftLockService service = node.parts().service();
            assertThat(service.submit(open("with-its-followers-0001")).get(10, TimeUnit.SECONDS))
                    .as("a write the followers acknowledge")
                    .isEqualTo(Reply.Ok.INSTANCE);

            List<Thread> crashing = new ArrayList<>();
            long cut = System.nanoTime();
            for (int i = 0; i < cluster.size(); i++) {
                if (i != leader) {
                    int n = i;
                    Thread t = new Thread(() -> crash(cluster, n), "crash-n" + (n + 1));
                    t.start();
                    crashing.add(t);
                }
            }

            List<CompletableFuture<Reply>> sent = new ArrayList<>();
            long steppedDownAfter = -1;
            long deadline = cut + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline) {
                long now = System.nanoTime();
                if (!node.parts().division().getInfo().isLeader()) {
                    steppedDownAfter = TimeUnit.NANOSECONDS.toMillis(now - cut);
                    break;
                }
                if (sent.size() < WRITES && now - cut >= 100_000_000L + sent.size() * WRITES_APART.toNanos()) {
                    sent.add(service.submit(open("cut-off-session-" + (10_000 + sent.size()))));
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            assertThat(steppedDownAfter)
                    .as(
                            "ms from the cut until the leader stepped down (-1: not within 15 s), with %d writes sent"
                                    + " %d ms apart; at most its lease, the longest election timeout and 1.6 s",
                            sent.size(), WRITES_APART.toMillis())
                    .isBetween(0L, BOUND.toMillis());

            // The writes it took while cut off are answered NOT_LEADER by the step-down, not left waiting.
            for (CompletableFuture<Reply> w : sent) {
                assertThatThrownBy(() -> w.get(2, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(NotLeaderException.class);
            }
            // A write sent to it now fails at once, so that its client goes to find the new leader.
            long start = System.nanoTime();
            CompletableFuture<Reply> late = service.submit(open("after-the-step-down-0001"));
            assertThatThrownBy(() -> late.get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(NotLeaderException.class);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                    .as("ms until a write sent to the deposed leader failed")
                    .isLessThan(500);
            for (Thread t : crashing) {
                t.join();
            }
        }
    }

    private static Command open(String session) {
        return new Command.OpenSession(session, "lost-majority-test", 10_000, 0);
    }

    /** Closes node {@code n}'s Raft division at once (it neither answers nor votes), then the node. */
    private static void crash(TestCluster cluster, int n) {
        try {
            cluster.crash(n);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
