package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A transport whose picked home failed goes back to it once it serves again ({@link ReturnHome}):
 * two gRPC members over one node on loopback, the first stopped and started again on its port; the
 * checks' timer is a {@link ManualScheduler}, so the test moves their time instead of waiting.
 */
class ReturnHomeTest {
    @RegisterExtension
    final Closing closing = new Closing();

    private final LocalNode node =
            LocalNode.named("return-home-" + UUID.randomUUID().toString().substring(0, 8));
    private final ManualScheduler timer = new ManualScheduler(new FakeTicker());
    /** Longer than any check's delay (at most one and a half times the mean). */
    private static final Duration CHECK = ReturnHome.MEAN_INTERVAL.multipliedBy(2);

    @Test
    void aHomeThatFailedIsGoneBackToOnceItAcknowledgesAHeartbeatAndNotBefore() throws Exception {
        ClientPort first = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        int port = first.port();
        ClientPort second = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        MemberAddress atFirst = new MemberAddress("127.0.0.1", port);
        ClusterTransport transport = homedOnFirst(atFirst, second);
        String session = open(transport);
        assertThat(timer.queued()).as("no check while at the picked home").isZero();

        first.close();
        assertThat(transport.keepAlive(session).get(10, TimeUnit.SECONDS)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(transport.target()).as("moved on from the failed home").isNotEqualTo(atFirst);
        assertThat(transport.members().awayFromPicked()).isTrue();

        // The picked home is still down: a probe fails, and the home stays where it moved.
        ReturnHome returns = transport.returnHome();
        checkOnce(returns);
        assertThat(transport.target()).isNotEqualTo(atFirst);
        assertThat(transport.homeReturns()).isZero();

        ClientPort again = closing.add(ClientPort.start("127.0.0.1", port, new LocalTransport(node)));
        assertThat(again.port()).isEqualTo(port);
        int movesBefore = transport.homeMoves();
        checkOnce(returns);
        assertThat(transport.target()).isEqualTo(atFirst);
        assertThat(transport.homeReturns()).isEqualTo(1);
        assertThat(transport.homeMoves()).as("the return is one move").isEqualTo(movesBefore + 1);
        assertThat(transport.keepAlive(session).get(10, TimeUnit.SECONDS)).isEqualTo(Reply.Ok.INSTANCE);

        // Back home, the checks end: however long the timer runs, no probe goes out.
        int probes = returns.probes();
        timer.advance(CHECK.multipliedBy(10));
        assertThat(timer.queued()).isZero();
        assertThat(returns.probes()).isEqualTo(probes);
    }

    @Test
    void aPickedHomeThatDoesNotAcknowledgeIsNotGoneBackTo() throws Exception {
        // The first member, when it comes back, answers every heartbeat SESSION_EXPIRED: it is up
        // but does not vouch for the session (as a member whose leader does not know it).
        AtomicInteger heartbeats = new AtomicInteger();
        ForwardingLockService refusing = new ForwardingLockService(new LocalTransport(node)) {
            @Override
            public java.util.concurrent.CompletableFuture<Reply> keepAlive(String sessionId) {
                heartbeats.incrementAndGet();
                return java.util.concurrent.CompletableFuture.completedFuture(
                        Reply.Failed.of(io.holdfast.ErrorCode.SESSION_EXPIRED, "no such session"));
            }
        };
        ClientPort first = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        int port = first.port();
        ClientPort second = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        ClusterTransport transport = homedOnFirst(new MemberAddress("127.0.0.1", port), second);
        String session = open(transport);
        first.close();
        assertThat(transport.keepAlive(session).get(10, TimeUnit.SECONDS)).isEqualTo(Reply.Ok.INSTANCE);
        closing.add(ClientPort.start("127.0.0.1", port, refusing));

        ReturnHome returns = transport.returnHome();
        for (int i = 1; i <= 3; i++) {
            checkOnce(returns);
        }
        assertThat(heartbeats.get()).as("each probe reached the picked home").isEqualTo(3);
        assertThat(transport.homeReturns()).isZero();
        assertThat(transport.members().awayFromPicked()).isTrue();
    }

    /** Moves the timer to the next check, and waits for its probe's answer (or failure). */
    private void checkOnce(ReturnHome returns) {
        int before = returns.probes();
        assertThat(timer.queued()).as("one check waits").isEqualTo(1);
        Duration next = timer.nextIn().orElseThrow();
        assertThat(next)
                .as("within half and one and a half times the mean")
                .isBetween(
                        ReturnHome.MEAN_INTERVAL.dividedBy(2),
                        ReturnHome.MEAN_INTERVAL.multipliedBy(3).dividedBy(2));
        timer.advance(next);
        await().atMost(Duration.ofSeconds(10)).until(() -> returns.probes() == before + 1);
    }

    /** A transport homed on {@code first}, with {@code second} the member it moves to. */
    private ClusterTransport homedOnFirst(MemberAddress first, ClientPort second) {
        return closing.add(ClusterTransport.withReturnTimer(
                List.of(first, new MemberAddress("127.0.0.1", second.port())),
                Duration.ofSeconds(5),
                new Random(0) {
                    @Override
                    public int nextInt(int bound) {
                        return 0;
                    }
                },
                timer));
    }

    private static String open(ClusterTransport transport) throws Exception {
        String session = "return-home-" + UUID.randomUUID().toString().replace("-", "");
        assertThat(transport
                        .submit(new Command.OpenSession(session, "test", 60_000, 0))
                        .get(5, TimeUnit.SECONDS))
                .isEqualTo(Reply.Ok.INSTANCE);
        assertThat(transport.keepAlive(session).get(5, TimeUnit.SECONDS)).isEqualTo(Reply.Ok.INSTANCE);
        return session;
    }
}
