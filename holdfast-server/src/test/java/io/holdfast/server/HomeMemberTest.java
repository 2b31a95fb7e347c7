package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.client.internal.MemberAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The Java client's home member (ADR 0003), against three real nodes over loopback: a client homed
 * on a member that survives the leader's crash neither moves nor loses a lease, and its session is
 * kept by the next leader; a client whose home crashes moves to another member within its TTL, and
 * loses no lease either.
 */
class HomeMemberTest {
    private static final Duration TTL = Duration.ofSeconds(3);
    /**
     * The TTL of the client that sees the leader crash: its home holds a heartbeat for a third of
     * it (2 s at most) while the others elect, and only a longer election moves it (ADR 0003); on
     * this small, shared machine an election under load took more than the 1 s of a 3 s TTL.
     */
    private static final Duration LONG_TTL = Duration.ofSeconds(6);

    /**
     * Picks member {@code index} as the home (a test's seeded choice); a move after a failed home
     * picks the first of the others in turn (a pick within the bound, as any generator's).
     */
    private static RandomGenerator pick(int index) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return index;
            }

            @Override
            public int nextInt(int bound) {
                return index < bound ? index : 0;
            }
        };
    }

    /** A client of every member, homed on member {@code home}, and its transport. */
    private record Homed(LockClient client, ClusterTransport transport) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
        }
    }

    private static Homed homedOn(TestCluster cluster, int home, Duration ttl) {
        List<MemberAddress> members = HoldfastProvider.members(cluster.uri());
        ClusterTransport transport = new ClusterTransport(members, Duration.ofSeconds(5), null, null, pick(home));
        ClientOptions options =
                ClientOptions.builder().sessionTtl(ttl).clientName("homed").build();
        ClientRuntime client =
                ClientRuntime.open("holdfast", members.toString(), transport, options, HoldfastProvider.CAPABILITIES);
        return new Homed(client, transport);
    }

    private static MemberAddress address(TestCluster cluster, int i) {
        return HoldfastProvider.members(cluster.uri()).get(i);
    }

    /** Watches a lease for {@code span}: fails the test at the first moment it is not valid. */
    private static void keptValid(Lease lease, Duration span) throws InterruptedException {
        long end = System.nanoTime() + span.toNanos();
        while (System.nanoTime() < end) {
            assertThat(lease.isValid()).as("the lease on %s", lease.name()).isTrue();
            Thread.sleep(50);
        }
    }

    @Test
    void aClientHomedOnASurvivorOfTheLeadersCrashNeitherMovesNorLosesALease() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int home = FollowerSessionTest.followerThatKnowsTheLeader(cluster, leader);
            try (Homed homed = homedOn(cluster, home, LONG_TTL)) {
                assertThat(homed.transport().target()).isEqualTo(address(cluster, home));
                Lease lease = homed.client().lock("home/held").acquire(Duration.ofSeconds(10));
                List<LockLostException> lost = new CopyOnWriteArrayList<>();
                lease.onLost(lost::add);
                String session = cluster.node(leader)
                        .parts()
                        .machine()
                        .read(t -> t.describe("home/held", 0)
                                .orElseThrow()
                                .holders()
                                .get(0)
                                .sessionId());

                cluster.crash(leader);
                int next = cluster.awaitLeader(Duration.ofSeconds(20));
                // Two TTLs: had no leader acknowledged its heartbeats since, the session would be gone.
                keptValid(lease, TTL.multipliedBy(2));
                assertThat(lost).isEmpty();
                assertThat(homed.transport().homeMoves())
                        .as("moves of the home")
                        .isZero();
                assertThat(homed.transport().target()).isEqualTo(address(cluster, home));
                boolean alive = cluster.node(next).parts().machine().read(t -> t.hasSession(session));
                assertThat(alive).as("the session at the next leader").isTrue();
                lease.release(); // forwarded by the home to the next leader
                Lease again = homed.client().lock("home/held").acquire(Duration.ofSeconds(10));
                assertThat(again.fencingToken()).isGreaterThan(lease.fencingToken());
            }
        }
    }

    @Test
    void aClientWhoseHomeCrashesMovesWithinItsTtlAndLosesNoLease() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int home = FollowerSessionTest.followerThatKnowsTheLeader(cluster, leader);
            try (Homed homed = homedOn(cluster, home, TTL)) {
                Lease lease = homed.client().lock("home/moved").acquire(Duration.ofSeconds(10));
                List<LockLostException> lost = new CopyOnWriteArrayList<>();
                lease.onLost(lost::add);

                long crashed = System.nanoTime();
                cluster.crash(home);
                Awaitility.await("the client moved off its crashed home")
                        .atMost(TTL)
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> homed.transport().homeMoves() > 0);
                long movedAfter = (System.nanoTime() - crashed) / 1_000_000;
                assertThat(homed.transport().target()).isNotEqualTo(address(cluster, home));
                keptValid(lease, TTL.multipliedBy(2));
                assertThat(lost).isEmpty();
                assertThat(movedAfter).as("ms from the crash to the move").isLessThan(TTL.toMillis());
                lease.release();
            }
        }
    }
}
