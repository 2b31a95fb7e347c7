package io.holdfast.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.DistributedSemaphore;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the contract cannot see from outside: tokens of waiters, watches, nodes left behind, loss before expiry. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZooKeeperBehaviourTest {
    private static ZooKeeperTestServer server;
    private static CuratorFramework raw;
    private final List<LockClient> clients = new ArrayList<>();
    private final String prefix = "behaviour/" + UUID.randomUUID() + "/";

    @BeforeAll
    static void start() throws Exception {
        server = ZooKeeperTestServer.start();
        raw = CuratorFrameworkFactory.newClient("127.0.0.1:" + server.port(), new RetryOneTime(100));
        raw.start();
    }

    @AfterAll
    static void stop() throws Exception {
        raw.close();
        server.close();
    }

    @AfterEach
    void closeClients() {
        clients.forEach(LockClient::close);
    }

    private LockClient open(Duration ttl) {
        LockClient c = LockClient.open(
                server.uri(), ClientOptions.builder().sessionTtl(ttl).build());
        clients.add(c);
        return c;
    }

    private LockClient open() {
        return open(Duration.ofSeconds(10));
    }

    /** The queue nodes of a lock, read straight from ZooKeeper. */
    private static List<String> nodesOf(String name) throws Exception {
        String parent = "/holdfast-test/locks/" + QueueNode.encode(name);
        return raw.checkExists().forPath(parent) == null
                ? List.of()
                : raw.getChildren().forPath(parent);
    }

    private void awaitWaiters(LockClient observer, String name, int n) {
        await().atMost(Duration.ofSeconds(5))
                .until(() -> observer.admin()
                                .describe(name)
                                .map(i -> i.waiters().size())
                                .orElse(0)
                        >= n);
    }

    @Test
    void aWaitersTokenIsAboveEveryGrantMadeWhileItWaitedEvenOfOtherNames() {
        String one = prefix + "one";
        LockClient a = open();
        Lease held = a.lock(one).tryAcquire().orElseThrow();
        CompletableFuture<Lease> waiter = open().lock(one).acquireAsync(Duration.ofSeconds(30));
        awaitWaiters(a, one, 1);
        Lease other = open().lock(prefix + "two").tryAcquire().orElseThrow();

        held.release();

        Lease granted = waiter.join();
        assertThat(granted.fencingToken())
                .as("the waiter's token against a grant of another name made after it queued")
                .isGreaterThan(other.fencingToken())
                .isGreaterThan(held.fencingToken());
        assertThat(a.admin().isCurrentHolder(one, granted.fencingToken())).isTrue();
    }

    @Test
    void aSemaphoreWaiterWakesWhenAnEarlierHolderLeavesNotOnlyItsPredecessor() {
        String n = prefix + "sem";
        DistributedSemaphore first = open().semaphore(n, 2);
        Lease early = first.tryAcquire(1).orElseThrow();
        Lease late = open().semaphore(n, 2).tryAcquire(1).orElseThrow();
        LockClient waiterClient = open(); // TTL 10 s: its safety re-check would come only after 10 s
        CompletableFuture<Lease> waiter = waiterClient
                .semaphore(n, 2)
                .acquireAsync(1, io.holdfast.AcquireOptions.waitUpTo(Duration.ofSeconds(30)));
        awaitWaiters(waiterClient, n, 1);

        long start = System.nanoTime();
        early.release();

        Lease granted = waiter.join();
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("time from the earlier holder's release to the grant (a watch, not the periodic re-check)")
                .isLessThan(Duration.ofSeconds(3));
        assertThat(granted.fencingToken()).isGreaterThan(late.fencingToken());
    }

    @Test
    void timedOutAndInterruptedWaitsLeaveNoNodeBehind() throws Exception {
        String n = prefix + "a";
        open().lock(n).tryAcquire().orElseThrow();
        LockClient waiter = open();
        assertThatThrownBy(() -> waiter.lock(n).acquire(Duration.ofMillis(300)))
                .isInstanceOf(LockTimeoutException.class);
        assertThat(nodesOf(n)).as("the queue after a timed-out wait").hasSize(1);

        Thread t = new Thread(() -> {
            try {
                waiter.lock(n).acquire(Duration.ofSeconds(30));
            } catch (InterruptedException expected) {
                // the point
            }
        });
        t.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> nodesOf(n).size() == 2);
        t.interrupt();
        t.join(5_000);
        assertThat(t.isAlive()).isFalse();
        assertThat(nodesOf(n))
                .as("the queue after an interrupted wait returned")
                .hasSize(1);

        assertThat(waiter.lock(n).tryAcquire()).isEmpty();
        assertThat(nodesOf(n)).as("the queue after a tryAcquire of a busy lock").hasSize(1);
    }

    @Test
    @org.junit.jupiter.api.Disabled(
            "KNOWN BUG, not a pass: in one CI run (2026-11-22) the loss notice came after the next holder"
                    + " was granted (Curator's SUSPENDED -> quarter-TTL timer path); passes alone 3 of 3."
                    + " Re-enable once the ordering is guaranteed; see docs/providers/zookeeper.md")
    void aCutOffHolderIsToldItLostTheLockBeforeTheServerGrantsItToTheNext() {
        String n = prefix + "cut";
        LockClient doomed = open(Duration.ofSeconds(2));
        Lease lease = doomed.lock(n).tryAcquire().orElseThrow();
        AtomicLong lostAt = new AtomicLong();
        lease.onLost(e -> lostAt.set(System.nanoTime()));
        CompletableFuture<Lease> next = open().lock(n).acquireAsync(Duration.ofSeconds(30));
        awaitWaiters(doomed, n, 1);

        long cutAt = System.nanoTime();
        io.holdfast.internal.CrashSimulation.crash(doomed); // the connection is cut without closing the session

        Lease granted = next.join();
        long grantedAt = System.nanoTime();
        assertThat(lostAt.get()).as("the old holder was told").isNotZero();
        assertThat(lostAt.get()).as("told before the next holder was granted").isLessThan(grantedAt);
        assertThat(Duration.ofNanos(grantedAt - cutAt))
                .as("the server expired the session by itself (no closeSession was sent)")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1_500));
        assertThat(granted.fencingToken()).isGreaterThan(lease.fencingToken());
    }
}
