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
import io.holdfast.model.FenceCheck;
import io.holdfast.model.LockService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
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

    /**
     * Many sessions with many leases on one connection whose home crashes: after the move each
     * session checks its leases (its events had a gap), all of them in a few {@code
     * IsCurrentHolderMany} calls, and none is lost. One session per lease check once sent a read
     * index per lease, and 1,000,000 of them held the heartbeats until every session expired
     * (docs/benchmarks.md, 2026-12-06).
     */
    @Test
    void sessionsSharingAConnectionWhoseHomeCrashesKeepEveryLease() throws Exception {
        int sessions = 20;
        int leasesEach = 50;
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int home = FollowerSessionTest.followerThatKnowsTheLeader(cluster, leader);
            List<MemberAddress> members = HoldfastProvider.members(cluster.uri());
            ClusterTransport transport = ClusterTransport.overFrames(members, Duration.ofSeconds(5), pick(home));
            LockService shared = unclosable(transport);
            ClientOptions options =
                    ClientOptions.builder().sessionTtl(TTL).clientName("shared").build();
            List<LockClient> clients = new ArrayList<>();
            try {
                List<Lease> leases = new ArrayList<>();
                for (int s = 0; s < sessions; s++) {
                    LockClient client = ClientRuntime.open(
                            "holdfast", members.toString(), shared, options, HoldfastProvider.CAPABILITIES);
                    clients.add(client);
                    for (int l = 0; l < leasesEach; l++) {
                        leases.add(client.lock("shared/" + s + "/" + l).acquire(Duration.ofSeconds(10)));
                    }
                }
                List<LockLostException> lost = new CopyOnWriteArrayList<>();
                leases.forEach(l -> l.onLost(lost::add));
                // The call itself, at the follower: the held tokens are current, a wrong one is not.
                List<FenceCheck> checks = new ArrayList<>();
                leases.forEach(l -> checks.add(new FenceCheck(l.name(), l.fencingToken())));
                checks.add(new FenceCheck(leases.get(0).name(), leases.get(0).fencingToken() + 1));
                List<Boolean> current = transport.isCurrentHolderMany(checks).get(10, TimeUnit.SECONDS);
                assertThat(current.subList(0, leases.size()))
                        .hasSize(leases.size())
                        .containsOnly(true);
                assertThat(current.get(leases.size()))
                        .as("a token never granted")
                        .isFalse();

                cluster.crash(home);
                Awaitility.await("the connection moved off its crashed home")
                        .atMost(TTL)
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> transport.homeMoves() > 0);
                long end = System.nanoTime() + TTL.multipliedBy(2).toNanos();
                while (System.nanoTime() < end) {
                    assertThat(leases)
                            .as("the leases")
                            .allSatisfy(
                                    l -> assertThat(l.isValid()).as(l.name()).isTrue());
                    Thread.sleep(100);
                }
                assertThat(lost).isEmpty();
            } finally {
                clients.forEach(LockClient::close);
                transport.close();
            }
        }
    }

    /** The transport, shared by several clients: a client's close leaves it open. */
    private static LockService unclosable(ClusterTransport transport) {
        return (LockService) java.lang.reflect.Proxy.newProxyInstance(
                LockService.class.getClassLoader(), new Class<?>[] {LockService.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close") && (args == null || args.length == 0)) {
                        return null;
                    }
                    try {
                        return method.invoke(transport, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
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
