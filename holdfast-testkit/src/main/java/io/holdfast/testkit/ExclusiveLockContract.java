package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.NotOwnerException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** Exclusive locks without capabilities: grant, try, timeout, tokens, exclusion, release. */
abstract class ExclusiveLockContract extends ContractSupport {
    ExclusiveLockContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void clientReportsTheCapabilitiesTheFixtureDeclares() {
        assertThat(sorted(open().capabilities()))
                .as("LockClient.capabilities() compared with ProviderFixture.capabilities()")
                .isEqualTo(sorted(fixture().capabilities()));
    }

    @Test
    void everyClientHasASessionOfItsOwn() {
        LockClient a = open();
        LockClient b = open();
        assertThat(a.isOpen()).isTrue();
        assertThat(a.sessionId()).isNotBlank().isNotEqualTo(b.sessionId());
    }

    @Test
    void acquireGrantsALeaseAndReleaseGivesItBack() throws InterruptedException {
        String n = name("a");
        DistributedLock lock = open().lock(n);
        assertThat(lock.name()).isEqualTo(n);
        assertThat(lock.mode()).isEqualTo(LockMode.EXCLUSIVE);

        Lease lease = lock.acquire(PROMPTLY);
        assertThat(lease.name()).isEqualTo(n);
        assertThat(lease.mode()).isEqualTo(LockMode.EXCLUSIVE);
        assertThat(lease.permits()).isEqualTo(1);
        assertThat(lease.fencingToken()).isPositive();
        assertThat(lease.isValid()).isTrue();
        assertThatCode(lease::checkValid).doesNotThrowAnyException();
        assertThat(isFree(observer().lock(n)))
                .as("the lock while another client holds it")
                .isFalse();

        lease.release();
        assertThat(lease.isValid()).isFalse();
        assertThat(isFree(observer().lock(n))).as("the lock after release").isTrue();
    }

    @Test
    void tryAcquireOfAHeldLockIsEmpty() {
        String n = name("a");
        Lease held = take(open().lock(n));
        assertThat(open().lock(n).tryAcquire())
                .as("tryAcquire of a lock another client holds")
                .isEmpty();
        assertThat(held.isValid()).isTrue();
    }

    @Test
    void leasesAreNotReentrant() {
        DistributedLock lock = open().lock(name("a"));
        Lease first = take(lock);
        assertThat(lock.tryAcquire())
                .as("a second tryAcquire through the same handle while the first lease is held")
                .isEmpty();
        assertThat(first.isValid()).isTrue();
    }

    @Test
    void aWaitEndsWithLockTimeoutExceptionAtItsDeadline() {
        String n = name("a");
        take(open().lock(n));
        DistributedLock lock = open().lock(n);
        long start = System.nanoTime();
        assertThatThrownBy(() -> lock.acquire(Duration.ofMillis(300))).isInstanceOf(LockTimeoutException.class);
        assertThat(millisSince(start))
                .as("milliseconds until a 300 ms wait timed out")
                .isBetween(280L, 3_000L);
    }

    @Test
    void aTimedOutWaitIsNeverGrantedLater() {
        String n = name("a");
        Lease held = take(open().lock(n));
        DistributedLock waiter = open().lock(n);
        assertThatThrownBy(() -> waiter.acquire(Duration.ofMillis(200))).isInstanceOf(LockTimeoutException.class);
        held.release();
        assertThat(isFree(observer().lock(n)))
                .as("the lock after its holder released and its only waiter had timed out")
                .isTrue();
    }

    @Test
    void fencingTokensGrowWithEveryGrantAcrossNamesAndClients() throws InterruptedException {
        LockClient a = open();
        LockClient b = open();
        List<Long> tokens = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Lease lease = (i % 2 == 0 ? a : b).lock(name("lock-" + (i % 3))).acquire(PROMPTLY);
            tokens.add(lease.fencingToken());
            lease.release();
        }
        Lease x = a.lock(name("x")).acquire(PROMPTLY);
        Lease y = b.lock(name("y")).acquire(PROMPTLY);
        tokens.add(x.fencingToken());
        tokens.add(y.fencingToken());
        assertThat(tokens)
                .as("fencing tokens in grant order")
                .allMatch(t -> t > 0)
                .isSorted()
                .doesNotHaveDuplicates();
    }

    /** Plain fields, guarded only by the distributed lock under test. */
    private static final class Guarded {
        int count;
        long lastToken;
        int tokenRegressions;
    }

    @Test
    void mutualExclusionUnderContention() {
        int threads = 4;
        int iterations = 40;
        String n = name("counter");
        LockClient[] clients = {open(), open()};
        Guarded guarded = new Guarded();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Background<Void>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            DistributedLock lock = clients[t % clients.length].lock(n);
            workers.add(inBackground("worker-" + t, () -> {
                assertThat(start.await(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS))
                        .isTrue();
                for (int i = 0; i < iterations; i++) {
                    Lease lease = lock.acquire(LONG_WAIT);
                    try {
                        mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        if (lease.fencingToken() <= guarded.lastToken) {
                            guarded.tokenRegressions++;
                        }
                        guarded.lastToken = lease.fencingToken();
                        int read = guarded.count;
                        LockSupport.parkNanos(50_000); // widens the window in which an overlap loses an update
                        guarded.count = read + 1;
                        inside.decrementAndGet();
                    } finally {
                        lease.release();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Background<Void> w : workers) {
            w.join(Duration.ofSeconds(45));
        }
        assertThat(mostInside.get())
                .as("the most holders inside the critical section at once")
                .isEqualTo(1);
        assertThat(guarded.count)
                .as("increments of a plain counter by %d threads x %d iterations", threads, iterations)
                .isEqualTo(threads * iterations);
        assertThat(guarded.tokenRegressions)
                .as("grants whose fencing token was not above the previous holder's")
                .isZero();
    }

    @Test
    void anyThreadMayReleaseALease() {
        String n = name("a");
        LockClient client = open();
        Lease lease =
                inBackground("acquirer", () -> client.lock(n).acquire(PROMPTLY)).join(PROMPTLY);
        lease.release();
        assertThat(lease.isValid()).isFalse();
        assertThat(isFree(observer().lock(n)))
                .as("the lock after another thread released it")
                .isTrue();
    }

    @Test
    void releaseAsyncGivesTheLockBack() {
        String n = name("a");
        Lease lease = take(open().lock(n));
        Futures.get(lease.releaseAsync(), PROMPTLY);
        assertThat(lease.isValid()).isFalse();
        assertThat(isFree(observer().lock(n))).isTrue();
    }

    @Test
    void releasingTwiceDoesNotTouchTheNextHoldersGrant() {
        String n = name("a");
        Lease first = take(open().lock(n));
        first.release();
        Lease second = take(open().lock(n));
        assertThatCode(first::release).as("a second release").doesNotThrowAnyException();
        assertThatCode(first::close).as("close after release").doesNotThrowAnyException();
        assertThat(second.isValid()).isTrue();
        assertThat(isFree(observer().lock(n)))
                .as("the lock after its previous holder released twice")
                .isFalse();
    }

    @Test
    void aReleasedLeaseIsNoLongerValid() {
        Lease lease = take(open().lock(name("a")));
        lease.close();
        assertThat(lease.isValid()).isFalse();
        assertThatThrownBy(lease::checkValid).isInstanceOf(NotOwnerException.class);
    }
}
