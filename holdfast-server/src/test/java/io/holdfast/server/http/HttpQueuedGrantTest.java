package io.holdfast.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockMode;
import io.holdfast.model.Reply;
import io.holdfast.server.TestCluster;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A queued acquire whose grant is applied before its "queued" reply is handled is still answered
 * by that grant, at once: at the leader, and at a member that forwards it.
 *
 * <p>How the grant comes first: each holder releases right after its waiter asks, so the grant is
 * in the next entry or in the same one (the proposer batches what arrives together), and a member
 * hands out the "queued" reply only once it has applied the entry, on another thread than the
 * one that applies the next. Before the fix (CI rehearsal ci29 of 2026-11-29, the conformance
 * {@code mutex} scenario) the wait's outcome, decided and dropped meanwhile, was asked for again
 * and never came: the session held the lock without knowing it, and the other drivers' waits ran
 * out after 60 s. The sessions' timer is a manual one, so no backstop (the wait plus the TTL)
 * answers in its place here: a wait the events did not answer stays unanswered and fails the test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpQueuedGrantTest {
    private static final int PAIRS = 150;

    private TestCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = new TestCluster(3);
    }

    @AfterAll
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void atTheLeader() throws Exception {
        everyWaitIsAnsweredByItsGrant(cluster.awaitLeader(Duration.ofSeconds(30)), "leader");
    }

    @Test
    void atAMemberThatForwards() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(30));
        everyWaitIsAnsweredByItsGrant((leader + 1) % cluster.size(), "member");
    }

    private void everyWaitIsAnsweredByItsGrant(int node, String where) throws Exception {
        HttpSessions sessions = new HttpSessions(cluster.node(node).parts(), new ManualScheduler(new FakeTicker()));
        List<String> holders = new ArrayList<>();
        List<String> waiters = new ArrayList<>();
        List<Long> tokens = new ArrayList<>();
        for (int i = 0; i < PAIRS; i++) {
            holders.add(sessions.open(null, "holder-" + i, 60_000, 0, null).get(30, TimeUnit.SECONDS));
            waiters.add(sessions.open(null, "waiter-" + i, 60_000, 0, null).get(30, TimeUnit.SECONDS));
            Reply held = sessions.acquire(caller(holders.get(i), 1), lock(where, i), LockMode.EXCLUSIVE, 1, 1, 0, 0, 0)
                    .get(30, TimeUnit.SECONDS);
            assertThat(held).isInstanceOf(Reply.Granted.class);
            tokens.add(((Reply.Granted) held).token());
        }
        List<CompletableFuture<Reply>> waits = new ArrayList<>();
        List<CompletableFuture<Reply>> releases = new ArrayList<>();
        for (int i = 0; i < PAIRS; i++) {
            waits.add(sessions.acquire(
                    caller(waiters.get(i), 1), lock(where, i), LockMode.EXCLUSIVE, 1, 1, 0, 60_000, 0));
            releases.add(sessions.release(caller(holders.get(i), 2), lock(where, i), tokens.get(i)));
        }
        for (CompletableFuture<Reply> r : releases) {
            assertThat(r.get(30, TimeUnit.SECONDS)).isInstanceOf(Reply.Ok.class);
        }
        List<Integer> unanswered = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int i = 0; i < PAIRS; i++) {
            try {
                Reply granted = waits.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertThat(granted).as("waiter %d", i).isInstanceOf(Reply.Granted.class);
                assertThat(((Reply.Granted) granted).token()).isGreaterThan(tokens.get(i));
            } catch (TimeoutException e) {
                unanswered.add(i);
            }
        }
        assertThat(unanswered)
                .as("waits granted by the table but never answered (of %d)", PAIRS)
                .isEmpty();
    }

    private static String lock(String where, int i) {
        return "queued-grant/" + where + "/" + i;
    }

    private static HttpSessions.Caller caller(String session, long request) {
        return new HttpSessions.Caller(null, session, request, 0);
    }
}
