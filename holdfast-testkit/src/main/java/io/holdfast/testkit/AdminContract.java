package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.HolderInfo;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Operator calls: {@link Capability#REVOKE}, {@link Capability#CHECK_FENCE}, {@link Capability#INSPECT}. */
abstract class AdminContract extends ContractSupport {
    AdminContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void revokeTellsTheHolderAndGrantsTheNextWaiter() {
        assumeCapability(Capability.REVOKE);
        String n = name("a");
        boolean checkFence = has(Capability.CHECK_FENCE);
        Admin admin = observer().admin();
        Lease lease = take(open().lock(n));
        AtomicReference<LockLostException> lost = new AtomicReference<>();
        lease.onLost(lost::set);
        CompletableFuture<Lease> next = open().lock(n).acquireAsync(LONG_WAIT);
        awaitQueued(n, 1);
        if (checkFence) {
            assertThat(admin.isCurrentHolder(n, lease.fencingToken()))
                    .as("before revoke")
                    .isTrue();
        }

        assertThat(admin.revoke(n)).as("leases revoked").isEqualTo(1);

        Lease granted = Futures.get(next, PROMPTLY);
        assertThat(granted.fencingToken()).isGreaterThan(lease.fencingToken());
        eventually(PROMPTLY).alias("the revoked holder to be told").untilAsserted(() -> {
            assertThat(lost.get()).as("exception given to onLost").isNotNull();
            assertThat(lease.isValid()).as("isValid").isFalse();
        });
        assertThatThrownBy(lease::checkValid).isInstanceOf(LockLostException.class);
        assertThatThrownBy(lease::release).as("releasing a revoked lease").isInstanceOf(LockLostException.class);
        if (checkFence) {
            assertThat(admin.isCurrentHolder(n, lease.fencingToken()))
                    .as("old token after revoke")
                    .isFalse();
            assertThat(admin.isCurrentHolder(n, granted.fencingToken()))
                    .as("new token")
                    .isTrue();
        }
    }

    @Test
    void revokingAFreeLockRevokesNothing() {
        assumeCapability(Capability.REVOKE);
        assertThat(observer().admin().revoke(name("nobody"))).isZero();
    }

    @Test
    void isCurrentHolderFollowsTheGrant() {
        assumeCapability(Capability.CHECK_FENCE);
        String n = name("a");
        Admin admin = observer().admin();
        Lease lease = take(open().lock(n));
        assertThat(admin.isCurrentHolder(n, lease.fencingToken()))
                .as("while held")
                .isTrue();
        assertThat(admin.isCurrentHolder(name("other"), lease.fencingToken()))
                .as("the token with another name")
                .isFalse();
        lease.release();
        assertThat(admin.isCurrentHolder(n, lease.fencingToken()))
                .as("after release")
                .isFalse();
    }

    @Test
    void describeShowsTheHolderAndTheWaitersInQueueOrder() {
        assumeCapability(Capability.INSPECT);
        String n = name("a");
        Admin admin = observer().admin();
        LockClient holder = open(options().clientName("contract-holder").build());
        LockClient w1 = open(options().clientName("contract-waiter-1").build());
        LockClient w2 = open(options().clientName("contract-waiter-2").build());
        Lease lease = take(holder.lock(n));
        CompletableFuture<Lease> f1 = w1.lock(n).acquireAsync(LONG_WAIT);
        awaitQueued(n, 1);
        CompletableFuture<Lease> f2 = w2.lock(n).acquireAsync(LONG_WAIT);
        awaitQueued(n, 2);

        LockInfo info = admin.describe(n).orElseThrow(() -> new AssertionError("describe of a held lock"));
        assertThat(info.name()).isEqualTo(n);
        assertThat(info.semaphore()).isFalse();
        assertThat(info.maxPermits()).isEqualTo(1);
        assertThat(info.holders()).singleElement().satisfies(h -> {
            assertThat(h.sessionId()).isEqualTo(holder.sessionId());
            assertThat(h.clientName()).isEqualTo("contract-holder");
            assertThat(h.mode()).isEqualTo(LockMode.EXCLUSIVE);
            assertThat(h.permits()).isEqualTo(1);
            assertThat(h.fencingToken()).isEqualTo(lease.fencingToken());
            assertThat(h.holdCount()).isEqualTo(1);
            assertThat(h.heldFor()).isGreaterThanOrEqualTo(Duration.ZERO);
            assertThat(h.leaseLeft()).as("leaseLeft without a lease timeout").isNull();
        });
        assertThat(info.waiters()).extracting(WaiterInfo::sessionId).containsExactly(w1.sessionId(), w2.sessionId());
        assertThat(info.waiters())
                .extracting(WaiterInfo::clientName)
                .containsExactly("contract-waiter-1", "contract-waiter-2");
        assertThat(info.waiters()).allSatisfy(w -> {
            assertThat(w.mode()).isEqualTo(LockMode.EXCLUSIVE);
            assertThat(w.permits()).isEqualTo(1);
            assertThat(w.timeLeft()).isPositive().isLessThanOrEqualTo(LONG_WAIT);
        });

        lease.release();
        // Without FAIR_QUEUE either waiter may be granted first: release whichever holds it.
        Futures.get(CompletableFuture.anyOf(f1, f2), PROMPTLY);
        CompletableFuture<Lease> first = f1.isDone() ? f1 : f2;
        Futures.get(first, PROMPTLY).release();
        Futures.get(first == f1 ? f2 : f1, PROMPTLY).release();
        eventually(PROMPTLY)
                .alias("describe of a lock nobody holds or waits for to be empty")
                .until(() -> admin.describe(n).isEmpty());
    }

    @Test
    void locksListsByPrefixInNameOrder() {
        assumeCapability(Capability.INSPECT);
        LockClient client = open();
        List<String> expected = new ArrayList<>(List.of(name("a"), name("b"), name("c")));
        take(client.lock(name("c")));
        take(client.lock(name("a")));
        take(client.lock(name("b")));
        if (has(Capability.SEMAPHORE)) {
            client.semaphore(name("d-sem"), 3).tryAcquire(1).orElseThrow();
            expected.add(name("d-sem"));
        }
        Admin admin = observer().admin();

        List<LockInfo> all = admin.locks(prefix(), 100);
        assertThat(all).extracting(LockInfo::name).containsExactlyElementsOf(expected);
        assertThat(admin.locks(prefix(), 2)).extracting(LockInfo::name).containsExactly(name("a"), name("b"));
        assertThat(admin.locks(prefix() + "zzz", 10)).isEmpty();
        if (has(Capability.SEMAPHORE)) {
            LockInfo sem = all.get(3);
            assertThat(sem.semaphore()).isTrue();
            assertThat(sem.maxPermits()).isEqualTo(3);
            assertThat(sem.holders()).extracting(HolderInfo::permits).containsExactly(1);
            assertThat(sem.holders()).extracting(HolderInfo::mode).containsExactly(LockMode.PERMITS);
        }
    }

    @Test
    void describeShowsTheLeaseTimeLeft() throws InterruptedException {
        assumeCapability(Capability.INSPECT, Capability.LEASE_TIMEOUT);
        String n = name("a");
        Duration timeout = Duration.ofSeconds(30);
        open().lock(n).acquire(AcquireOptions.waitUpTo(PROMPTLY).withLeaseTimeout(timeout));
        LockInfo info = observer().admin().describe(n).orElseThrow();
        assertThat(info.holders())
                .singleElement()
                .satisfies(
                        h -> assertThat(h.leaseLeft()).isNotNull().isPositive().isLessThanOrEqualTo(timeout));
    }
}
