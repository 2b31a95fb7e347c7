package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.DeadlockException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Behaviour of the client runtime that is specific to it (the contract suite covers the rest). */
class MemClientTest {
    private static final String URI = "mem:client-test";
    private final java.util.List<LockClient> clients = new java.util.ArrayList<>();

    private LockClient open(Duration ttl) {
        LockClient c =
                LockClient.open(URI, ClientOptions.builder().sessionTtl(ttl).build());
        clients.add(c);
        return c;
    }

    @AfterEach
    void closeAll() {
        clients.forEach(LockClient::close);
    }

    @Test
    void queuedWaiterIsGrantedByTheReleaseWithAHigherToken() throws Exception {
        LockClient a = open(Duration.ofSeconds(10));
        LockClient b = open(Duration.ofSeconds(10));
        Lease first = a.lock("q/1").acquire(Duration.ofSeconds(1));
        CompletableFuture<Lease> second = b.lock("q/1").acquireAsync(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> a.admin().describe("q/1").orElseThrow().waiters().size() == 1);
        assertThat(second).isNotDone();
        first.release();
        Lease granted = second.get(5, TimeUnit.SECONDS);
        assertThat(granted.fencingToken()).isGreaterThan(first.fencingToken());
        granted.release();
    }

    @Test
    void waitTimesOutAndLeavesNoQueueEntry() throws Exception {
        LockClient a = open(Duration.ofSeconds(10));
        LockClient b = open(Duration.ofSeconds(10));
        try (Lease held = a.lock("t/1").acquire(Duration.ofSeconds(1))) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> b.lock("t/1").acquire(Duration.ofMillis(300)))
                    .isInstanceOf(LockTimeoutException.class);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(290));
            assertThat(a.admin().describe("t/1").orElseThrow().waiters()).isEmpty();
            assertThat(held.isValid()).isTrue();
        }
    }

    @Test
    void crossedLocksAreRefusedAsDeadlockInsteadOfWaitingForTheTimeout() throws Exception {
        LockClient c = open(Duration.ofSeconds(10));
        CountDownLatch bothHold = new CountDownLatch(2);
        AtomicReference<Throwable> t1Error = new AtomicReference<>();
        Thread t1 = new Thread(() -> {
            try (Lease a = c.lock("d/A").acquire(Duration.ofSeconds(5))) {
                bothHold.countDown();
                bothHold.await();
                try (Lease b = c.lock("d/B").acquire(Duration.ofSeconds(30))) {
                    assertThat(b.isValid()).isTrue();
                }
            } catch (Throwable e) {
                t1Error.set(e);
            }
        });
        t1.start();
        try (Lease b = c.lock("d/B").acquire(Duration.ofSeconds(5))) {
            bothHold.countDown();
            bothHold.await();
            await().atMost(Duration.ofSeconds(5))
                    .until(() ->
                            c.admin().describe("d/B").orElseThrow().waiters().size() == 1);
            long start = System.nanoTime();
            assertThatThrownBy(() -> c.lock("d/A").acquire(Duration.ofSeconds(30)))
                    .isInstanceOfSatisfying(
                            DeadlockException.class, e -> assertThat(e.cycle()).containsExactly("d/A", "d/B"));
            assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));
        }
        t1.join(10_000);
        assertThat(t1Error.get()).isNull();
    }

    @Test
    void aCrashedHolderLosesItsLeaseAndTheNextClientGetsTheLock() throws Exception {
        LockClient victim = open(Duration.ofSeconds(1));
        LockClient other = open(Duration.ofSeconds(10));
        Lease held = victim.lock("c/1").acquire(Duration.ofSeconds(1));
        AtomicReference<LockLostException> lost = new AtomicReference<>();
        held.onLost(lost::set);
        io.holdfast.internal.CrashSimulation.crash(victim);
        Lease next = other.lock("c/1").acquire(Duration.ofSeconds(10));
        assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(lost.get()).isNotNull());
        assertThat(held.isValid()).isFalse();
        assertThatThrownBy(held::release).isInstanceOf(LockLostException.class);
        next.release();
    }

    /**
     * A wait of zero on a busy lock is a wait, not a try: the service answers "busy" at once, and the
     * caller hears a {@link LockTimeoutException}, never a null lease (issue 51: {@code holdfast lock
     * --wait 0s} crashed on one). A try still answers empty.
     */
    @Test
    void aZeroWaitOnABusyLockTimesOutInsteadOfGrantingNull() throws Exception {
        LockClient a = open(Duration.ofSeconds(10));
        LockClient b = open(Duration.ofSeconds(10));
        try (Lease held = a.lock("zero/1").acquire(Duration.ofSeconds(1));
                Lease reader = a.readWriteLock("zero/rw").writeLock().acquire(Duration.ofSeconds(1))) {
            CompletableFuture<Lease> async = b.lock("zero/1").acquireAsync(Duration.ZERO);
            assertThatThrownBy(() -> async.get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(LockTimeoutException.class)
                    .hasMessageContaining("zero/1");
            assertThatThrownBy(() -> b.lock("zero/1").acquire(Duration.ZERO)).isInstanceOf(LockTimeoutException.class);
            CompletableFuture<Lease> shared =
                    b.readWriteLock("zero/rw").readLock().acquireAsync(Duration.ZERO);
            assertThatThrownBy(() -> shared.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(LockTimeoutException.class);
            CompletableFuture<io.holdfast.MultiLease> both = b.multiLock(
                            java.util.List.of("zero/0", "zero/1"), io.holdfast.LockMode.EXCLUSIVE)
                    .acquireAsync(io.holdfast.AcquireOptions.waitUpTo(Duration.ZERO));
            assertThatThrownBy(() -> both.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(LockTimeoutException.class);
            assertThat(b.lock("zero/1").tryAcquire())
                    .as("a try is still an empty answer")
                    .isEmpty();
        }
        assertThat(a.admin().describe("zero/1").map(i -> i.waiters().size()).orElse(0))
                .as("no queue entry left behind")
                .isZero();
    }
}
