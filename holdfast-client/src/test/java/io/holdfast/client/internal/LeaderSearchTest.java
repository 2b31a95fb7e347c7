package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.UnavailableException;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A call made while the members elect a leader (each answers that it does not lead) goes round them
 * again every 100 ms at most, so it reaches the new leader soon after its election, within the
 * call's deadline, without the retry policy's growing pauses.
 */
class LeaderSearchTest {
    @RegisterExtension
    final Closing closing = new Closing();

    @Test
    void aCallMadeDuringAnElectionWaitsForItAndReachesTheLeaderSoonAfter() throws Exception {
        LocalNode node =
                LocalNode.named("leader-search-" + UUID.randomUUID().toString().substring(0, 8));
        Candidate candidate = new Candidate(new LocalTransport(node));
        NotLeaderService follower = new NotLeaderService(null); // knows no leader yet
        ClientPort a = closing.add(ClientPort.start("127.0.0.1", 0, follower));
        ClientPort b = closing.add(ClientPort.start("127.0.0.1", 0, candidate));
        ClusterTransport transport = closing.add(new ClusterTransport(
                List.of(new MemberAddress("127.0.0.1", a.port()), new MemberAddress("127.0.0.1", b.port())),
                Duration.ofSeconds(30))); // a deadline far off: the search's own bound (3 s) is what counts

        CompletableFuture<Reply> reply =
                transport.submit(new Command.OpenSession("leader-search-session-0001", "test", 30_000, 0));
        // Each member is asked once per round: a second answer is a second round.
        await().atMost(Duration.ofSeconds(10)).until(() -> follower.calls.get() >= 2);
        assertThat(reply).as("still searching, not failed").isNotDone();
        candidate.elected = true;
        long electedNanos = System.nanoTime();

        assertThat(reply.get(10, TimeUnit.SECONDS)).isInstanceOf(Reply.Ok.class);
        assertThat(Duration.ofNanos(System.nanoTime() - electedNanos)).isLessThan(Duration.ofMillis(1500));
        assertThat(node.keepAlive("leader-search-session-0001")).isInstanceOf(Reply.Ok.class);
    }

    @Test
    void aSearchThatFindsNoLeaderEndsInBoundedTime() {
        NotLeaderService follower = new NotLeaderService(null);
        ClientPort a = closing.add(ClientPort.start("127.0.0.1", 0, follower));
        ClusterTransport transport = onlyMember(a);
        long start = System.nanoTime();

        var reply = transport.submit(new Command.Revoke("x"));

        assertThatThrownBy(() -> reply.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + a.port()); // what it answered, or that it did not in time
        // The search ends 3 s after its first round, before the call's deadline (5 s).
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        assertThat(follower.calls.get())
                .as("asked in rounds, at most one per 10 ms")
                .isLessThanOrEqualTo(300);
    }

    @Test
    void aHeartbeatDoesNotSearchTheSessionSendsTheNextOneItself() {
        NotLeaderService follower = new NotLeaderService(null);
        ClientPort a = closing.add(ClientPort.start("127.0.0.1", 0, follower));
        ClusterTransport transport = onlyMember(a);

        var beat = transport.keepAlive("leader-search-session-0002", Duration.ofSeconds(5));

        assertThatThrownBy(() -> beat.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("no member");
        assertThat(follower.calls.get()).as("one round").isEqualTo(1);
    }

    /** A transport to this member alone, each call with a deadline of 5 s. */
    private ClusterTransport onlyMember(ClientPort member) {
        return closing.add(
                new ClusterTransport(List.of(new MemberAddress("127.0.0.1", member.port())), Duration.ofSeconds(5)));
    }

    /** A member that does not lead until {@link #elected}, then serves from its node. */
    private static final class Candidate extends ForwardingLockService {
        volatile boolean elected;

        Candidate(LockService node) {
            super(node);
        }

        @Override
        public CompletableFuture<Reply> submit(Command command) {
            return elected
                    ? super.submit(command)
                    : CompletableFuture.failedFuture(new NotLeaderException("an election is under way", null));
        }
    }
}
