package io.holdfast.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.HolderInfo;
import io.holdfast.LockClient;
import io.holdfast.spring.integration.HoldfastLockRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.integration.leader.Candidate;
import org.springframework.integration.leader.Context;
import org.springframework.integration.support.leader.LockRegistryLeaderInitiator;

/**
 * Spring Integration's own {@link LockRegistryLeaderInitiator} over {@link HoldfastLockRegistry}: two nodes (two
 * clients, two sessions) on one role against a real Holdfast node.
 */
class LeaderLockRegistryInitiatorTest {
    private static final TestServer server = TestServer.shared();

    /** A candidate that records what Spring Integration tells it. */
    static final class Recording implements Candidate {
        final String id;
        final String role;
        final ConcurrentLinkedQueue<String> calls = new ConcurrentLinkedQueue<>();

        Recording(String id, String role) {
            this.id = id;
            this.role = role;
        }

        @Override
        public String getRole() {
            return role;
        }

        @Override
        public String getId() {
            return id;
        }

        @Override
        public void onGranted(Context context) {
            calls.add("granted");
        }

        @Override
        public void onRevoked(Context context) {
            calls.add("revoked");
        }
    }

    /** One application node: its client, registry, initiator and candidate. */
    record Node(LockClient client, LockRegistryLeaderInitiator initiator, Recording candidate) {
        static Node start(String id, String role) {
            LockClient client = LockClient.open(
                    server.uri, ClientOptions.builder().clientName(id).build());
            Recording candidate = new Recording(id, role);
            LockRegistryLeaderInitiator initiator =
                    new LockRegistryLeaderInitiator(new HoldfastLockRegistry(client), candidate);
            initiator.start();
            return new Node(client, initiator, candidate);
        }

        boolean leads() {
            return initiator.getContext().isLeader();
        }

        void close() {
            initiator.stop();
            client.close();
        }
    }

    @Test
    void exactlyOneLeadsAndTheOtherTakesOverWhenTheLeadersInitiatorStops() {
        Node a = Node.start("node-a", "si-stop");
        Node b = Node.start("node-b", "si-stop");
        try {
            Node leader = awaitOneLeader(a, b);
            Node follower = leader == a ? b : a;
            HolderInfo first = holder("si-stop");
            assertThat(first.sessionId())
                    .as("the lock spring-integration/si-stop is held by the leader's session")
                    .isEqualTo(leader.client().sessionId());

            leader.initiator().stop(); // cancels its selector, which unlocks and revokes on its own thread
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertThat(leader.candidate().calls)
                            .as("the stopped leader was revoked")
                            .containsExactly("granted", "revoked"));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertThat(follower.candidate().calls).containsExactly("granted"));
            assertThat(follower.leads()).isTrue();
            assertThat(leader.leads()).isFalse();
            HolderInfo second = holder("si-stop");
            assertThat(second.sessionId()).isEqualTo(follower.client().sessionId());
            assertThat(second.fencingToken())
                    .as("the new leadership's token is higher")
                    .isGreaterThan(first.fencingToken());
        } finally {
            a.close();
            b.close();
        }
    }

    /**
     * The heartbeat of {@link LockRegistryLeaderInitiator} is a reentrant {@code tryLock}: it must fail once the
     * lease is gone, or the deposed leader believes it leads on while the other node leads too (which it did
     * when the registry's lock answered reentrant calls without looking at the lease).
     */
    @Test
    void aLeaderWhoseLockIsRevokedIsToldAtItsNextHeartbeatAndTheOtherLeads() {
        Node a = Node.start("node-a", "si-revoke");
        Node b = Node.start("node-b", "si-revoke");
        try {
            Node leader = awaitOneLeader(a, b);
            Node follower = leader == a ? b : a;
            try (LockClient operator = LockClient.open(server.uri)) {
                assertThat(operator.admin().revoke("spring-integration/si-revoke"))
                        .isEqualTo(1);
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(leader.candidate().calls)
                            .as("the deposed leader was revoked")
                            .containsExactly("granted", "revoked"));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(follower.candidate().calls).containsExactly("granted"));
            assertThat(leader.leads()).as("one leader, not two").isFalse();
            assertThat(holder("si-revoke").sessionId())
                    .isEqualTo(follower.client().sessionId());
        } finally {
            a.close();
            b.close();
        }
    }

    private static Node awaitOneLeader(Node a, Node b) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> a.candidate().calls.contains("granted")
                        || b.candidate().calls.contains("granted"));
        Node leader = a.candidate().calls.contains("granted") ? a : b;
        Node follower = leader == a ? b : a;
        assertThat(leader.leads()).isTrue();
        assertThat(follower.leads()).as("exactly one leads").isFalse();
        assertThat(follower.candidate().calls)
                .as("the follower was never granted")
                .isEmpty();
        return leader;
    }

    private static HolderInfo holder(String role) {
        try (LockClient operator = LockClient.open(server.uri)) {
            List<HolderInfo> holders = operator.admin()
                    .describe("spring-integration/" + role)
                    .orElseThrow()
                    .holders();
            assertThat(holders).hasSize(1);
            return holders.get(0);
        }
    }
}
