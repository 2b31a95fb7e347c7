package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedMultiLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.MultiLease;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link LockClient#multiLock}: several locks taken all or none, never in a cycle with one another. */
abstract class MultiLockContract extends ContractSupport {
    MultiLockContract(LockProviderContract suite) {
        super(suite);
    }

    private List<String> names(String... suffixes) {
        List<String> out = new ArrayList<>();
        for (String s : suffixes) {
            out.add(name(s));
        }
        return out;
    }

    private void assertAllFree(List<String> names, String when) {
        for (String n : names) {
            assertThat(isFree(observer().lock(n))).as("%s %s", n, when).isTrue();
        }
    }

    @Test
    void aMultiLockHoldsEveryNameWithATokenEachAndReleasesThemAll() throws InterruptedException {
        assumeCapability(Capability.MULTI_LOCK);
        List<String> all = names("c", "a", "b");
        DistributedMultiLock multi = open().multiLock(all);
        assertThat(multi.names())
                .as("the names in the order they are taken")
                .isSorted()
                .hasSize(3);
        MultiLease lease = multi.acquire(PROMPTLY);
        assertThat(lease.isValid()).isTrue();
        assertThat(lease.fencingTokens().keySet()).containsExactlyElementsOf(multi.names());
        assertThat(lease.fencingTokens().values()).allSatisfy(t -> assertThat(t).isPositive());
        for (String n : all) {
            assertThat(isFree(observer().lock(n)))
                    .as("%s while the multi-lock holds it", n)
                    .isFalse();
        }
        lease.release();
        assertThat(lease.isValid()).as("after release").isFalse();
        assertAllFree(all, "after the release");
        lease.release(); // idempotent
    }

    @Test
    void tryAcquireTakesNothingWhenOneNameIsBusy() {
        assumeCapability(Capability.MULTI_LOCK);
        List<String> all = names("a", "b", "c");
        Lease middle = take(open().lock(all.get(1)));
        assertThat(open().multiLock(all).tryAcquire())
                .as("a multi-lock with one busy name")
                .isEmpty();
        assertThat(isFree(observer().lock(all.get(0))))
                .as("the first name, taken before the busy one")
                .isTrue();
        assertThat(isFree(observer().lock(all.get(2)))).isTrue();
        middle.release();
        MultiLease lease = open().multiLock(all).tryAcquire().orElseThrow();
        lease.release();
    }

    @Test
    void aWaitThatRunsOutGivesBackWhatItTook() {
        assumeCapability(Capability.MULTI_LOCK);
        List<String> all = names("a", "b");
        Lease last = take(open().lock(all.get(1)));
        long start = System.nanoTime();
        assertThatThrownBy(() -> open().multiLock(all).acquire(Duration.ofMillis(300)))
                .isInstanceOf(LockTimeoutException.class)
                .hasMessageContaining(all.get(1));
        assertThat(millisSince(start)).as("the wait, within its one wait time").isLessThan(PROMPTLY.toMillis());
        assertThat(isFree(observer().lock(all.get(0))))
                .as("the name taken before the wait ran out")
                .isTrue();
        last.release();
    }

    @Test
    void multiLocksGivenInOppositeOrdersNeverDeadlock() {
        assumeCapability(Capability.MULTI_LOCK);
        String a = name("a");
        String b = name("b");
        String c = name("c");
        int rounds = 15;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<Background<Integer>> workers = new ArrayList<>();
        List<List<String>> orders = List.of(List.of(a, b, c), List.of(c, b, a), List.of(b, c, a));
        for (List<String> order : orders) {
            LockClient client = open();
            workers.add(inBackground("multi-" + order, () -> {
                for (int i = 0; i < rounds; i++) {
                    try (MultiLease lease = client.multiLock(order).acquire(LONG_WAIT)) {
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        Thread.sleep(1);
                        inside.decrementAndGet();
                    }
                }
                return rounds;
            }));
        }
        for (Background<Integer> w : workers) {
            assertThat(w.join(Duration.ofSeconds(60))).isEqualTo(rounds);
        }
        assertThat(overlaps)
                .as("rounds in which two multi-locks of the same names overlapped")
                .hasValue(0);
    }

    @Test
    void theAsyncAcquireHoldsAllAndACancelledOneLeavesNothing() throws Exception {
        assumeCapability(Capability.MULTI_LOCK);
        List<String> all = names("a", "b");
        MultiLease lease = Futures.get(open().multiLock(all).acquireAsync(AcquireOptions.waitUpTo(PROMPTLY)), PROMPTLY);
        assertThat(lease.fencingTokens()).hasSize(2);
        Futures.get(lease.releaseAsync(), PROMPTLY);
        assertAllFree(all, "after the async release");

        Lease blocker = take(open().lock(all.get(1)));
        CompletableFuture<MultiLease> waiting = open().multiLock(all).acquireAsync(AcquireOptions.waitUpTo(LONG_WAIT));
        eventually(PROMPTLY)
                .alias("the first name to be taken by the waiting multi-lock")
                .until(() -> !isFree(observer().lock(all.get(0))));
        waiting.cancel(true);
        eventually(PROMPTLY)
                .alias("the first name to be given back after the cancel")
                .until(() -> isFree(observer().lock(all.get(0))));
        blocker.release();
        // As for a single lock (WaitCancellationContract), a store may clean up a cancelled wait
        // after the future was cancelled: a queue entry of the wait can be granted the name in
        // between and is then given back. Nothing may stay held.
        eventually(PROMPTLY)
                .alias("every name free after the cancelled wait and the blocker's release")
                .until(() -> all.stream().allMatch(n -> isFree(observer().lock(n))));
        assertAllFree(all, "after the cancelled wait and the blocker's release");
    }

    @Test
    void sharedMultiLocksShareAndExcludeWriters() {
        assumeCapability(Capability.MULTI_LOCK, Capability.READ_WRITE);
        List<String> all = names("a", "b");
        MultiLease first = open().multiLock(all, LockMode.SHARED).tryAcquire().orElseThrow();
        MultiLease second = open().multiLock(all, LockMode.SHARED).tryAcquire().orElseThrow();
        assertThat(open().multiLock(all).tryAcquire())
                .as("an exclusive multi-lock beside readers")
                .isEmpty();
        first.release();
        second.release();
        open().multiLock(all).tryAcquire().orElseThrow().release();
    }

    @Test
    void losingOneLeaseLosesTheUnitAndTellsOnce() {
        assumeCapability(Capability.MULTI_LOCK, Capability.REVOKE);
        List<String> all = names("a", "b");
        MultiLease lease = open().multiLock(all).tryAcquire().orElseThrow();
        AtomicInteger told = new AtomicInteger();
        lease.onLost(e -> told.incrementAndGet());
        assertThat(observer().admin().revoke(all.get(0))).isEqualTo(1);
        eventually(PROMPTLY).alias("the multi-lease to learn of the loss").until(() -> !lease.isValid());
        eventually(PROMPTLY)
                .alias("the other name, given back at once")
                .until(() -> isFree(observer().lock(all.get(1))));
        assertThatThrownBy(lease::checkValid).isInstanceOf(LockLostException.class);
        assertThatThrownBy(lease::release)
                .as("releasing a unit with a lost lease")
                .isInstanceOf(LockLostException.class);
        assertThat(isFree(observer().lock(all.get(1))))
                .as("the other name, given back")
                .isTrue();
        eventually(PROMPTLY).alias("the loss listener to be called").until(() -> told.get() > 0);
        assertThat(told).as("loss listeners called for one unit").hasValue(1);
    }

    @Test
    void badNameListsAreRefused() {
        assumeCapability(Capability.MULTI_LOCK);
        LockClient client = open();
        String a = name("a");
        assertThatThrownBy(() -> client.multiLock(List.of())).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.multiLock(null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.multiLock(List.of(a, a)))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("repeated");
        assertThatThrownBy(() -> client.multiLock(Arrays.asList(a, null))).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.multiLock(List.of(a), LockMode.PERMITS))
                .isInstanceOf(InvalidArgumentException.class);
        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i <= DistributedMultiLock.MAX_NAMES; i++) {
            tooMany.add(name("n" + i));
        }
        assertThatThrownBy(() -> client.multiLock(tooMany)).isInstanceOf(InvalidArgumentException.class);
    }
}
