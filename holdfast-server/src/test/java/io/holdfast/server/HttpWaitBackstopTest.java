package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.model.Reply;
import io.holdfast.model.WaitBackstop;
import io.holdfast.server.http.HttpSessions;
import io.holdfast.server.node.NodeParts;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An HTTP client's queued acquire that no event decides asks the table again by the {@link
 * WaitBackstop} rule, on the sessions' timer in virtual time: the first ask at the wait plus the
 * session's TTL, then a second apart while the table still has it queued, then {@code
 * UNAVAILABLE}. The node is real and its clock too, so the minute-long wait does not end during
 * the test: every ask is answered "queued", as when the cluster cannot decide.
 */
class HttpWaitBackstopTest {
    private static final long TTL_MILLIS = 10_000;
    private static final long WAIT_MILLIS = 60_000;

    @Test
    void aWaitNoEventDecidesIsAskedForAtTheWaitPlusTheTtlThenASecondApartThenAnsweredUnavailable() throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            NodeParts parts =
                    cluster.node(cluster.awaitLeader(Duration.ofSeconds(30))).parts();
            ManualScheduler timer = new ManualScheduler(new FakeTicker());
            HttpSessions sessions = new HttpSessions(parts, timer);
            String holder = sessions.open(null, "holder", 30_000, 0, null).get(10, TimeUnit.SECONDS);
            String waiter = sessions.open(null, "waiter", TTL_MILLIS, 0, null).get(10, TimeUnit.SECONDS);
            Reply held = sessions.acquire(
                            new HttpSessions.Caller(null, holder, 1L, 0),
                            "jobs/held",
                            LockMode.EXCLUSIVE,
                            1,
                            1,
                            0,
                            0,
                            0)
                    .get(10, TimeUnit.SECONDS);
            assertThat(held).isInstanceOf(Reply.Granted.class);

            CompletableFuture<Reply> waiting = sessions.acquire(
                    new HttpSessions.Caller(null, waiter, 1L, 0),
                    "jobs/held",
                    LockMode.EXCLUSIVE,
                    1,
                    1,
                    0,
                    WAIT_MILLIS,
                    0);
            await().atMost(10, TimeUnit.SECONDS).until(() -> timer.queued() == 1); // queued: the first ask is due

            timer.advance(Duration.ofMillis(WAIT_MILLIS + TTL_MILLIS - 1));
            assertThat(waiting).as("before the wait plus the TTL").isNotDone();
            timer.advance(Duration.ofMillis(1));
            for (int more = 1; more <= WaitBackstop.MORE_ASKS; more++) {
                await().atMost(10, TimeUnit.SECONDS).until(() -> timer.queued() == 1); // answered queued: asks again
                assertThat(waiting).as("after ask %d", more).isNotDone();
                timer.advance(Duration.ofMillis(WaitBackstop.ASK_INTERVAL_MILLIS));
            }

            Reply answer = waiting.get(10, TimeUnit.SECONDS);
            assertThat(answer)
                    .isInstanceOfSatisfying(
                            Reply.Failed.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.UNAVAILABLE));
            assertThat(timer.queued()).as("no ask after the answer").isZero();
        }
    }
}
