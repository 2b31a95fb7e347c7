package io.holdfast.core;

import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DescribeListTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final Client c = d.open("c");

    @Test
    void describeShowsHoldersAndWaitersInOrderWithTheirTimes() {
        long ta = token(a.acquire("x").shared().lease(5_000).apply());
        d.advance(100);
        long tb = token(b.acquire("x").shared().apply());
        d.advance(200);
        c.acquire("x").waitMillis(2_000).apply();
        d.advance(300);
        a.acquire("x").owner(2).waitMillis(1_000).apply();
        d.advance(50);

        LockInfo info = d.table().describe("x", d.time()).orElseThrow();

        assertThat(info.name()).isEqualTo("x");
        assertThat(info.semaphore()).isFalse();
        assertThat(info.maxPermits()).isEqualTo(1);
        assertThat(info.holders())
                .containsExactly(
                        new HolderInfo(
                                a.id, "a", LockMode.SHARED, 1, ta, 1, Duration.ofMillis(650), Duration.ofMillis(4_350)),
                        new HolderInfo(b.id, "b", LockMode.SHARED, 1, tb, 1, Duration.ofMillis(550), null));
        assertThat(info.waiters())
                .containsExactly(
                        new WaiterInfo(
                                c.id, "c", LockMode.EXCLUSIVE, 1, Duration.ofMillis(350), Duration.ofMillis(1_650)),
                        new WaiterInfo(
                                a.id, "a", LockMode.EXCLUSIVE, 1, Duration.ofMillis(50), Duration.ofMillis(950)));
    }

    @Test
    void describeTimesByTheLaterOfItsArgumentAndTheTableClock() {
        long t0 = d.time();
        token(a.acquire("x").lease(1_000).apply());

        assertThat(d.table()
                        .describe("x", t0 - 10_000)
                        .orElseThrow()
                        .holders()
                        .get(0)
                        .heldFor())
                .isEqualTo(Duration.ZERO);
        HolderInfo later =
                d.table().describe("x", t0 + 400).orElseThrow().holders().get(0);
        assertThat(later.heldFor()).isEqualTo(Duration.ofMillis(400));
        assertThat(later.leaseLeft()).isEqualTo(Duration.ofMillis(600));
        assertThat(d.table()
                        .describe("x", t0 + 5_000)
                        .orElseThrow()
                        .holders()
                        .get(0)
                        .leaseLeft())
                .isEqualTo(Duration.ZERO);
    }

    @Test
    void describeOfAFreeNameIsEmpty() {
        long t = token(a.acquire("x").apply());
        a.release("x", t);

        assertThat(d.table().describe("x", d.time())).isEmpty();
        assertThat(d.table().describe("never", d.time())).isEmpty();
    }

    @Test
    void describeShowsSemaphores() {
        token(a.acquire("s").permits(2, 4).apply());

        LockInfo info = d.describe("s");

        assertThat(info.semaphore()).isTrue();
        assertThat(info.maxPermits()).isEqualTo(4);
        assertThat(info.holders())
                .extracting(HolderInfo::mode, HolderInfo::permits)
                .containsExactly(tuple(LockMode.PERMITS, 2));
    }

    @Test
    void listFiltersByPrefixSortsByNameAndLimits() {
        for (String name : new String[] {"jobs/3", "b", "jobs/1", "jobs/10", "jobs", "jobs/2"}) {
            token(a.acquire(name).shared().apply());
        }

        assertThat(d.table().list("jobs/", 10, d.time()))
                .extracting(LockInfo::name)
                .containsExactly("jobs/1", "jobs/10", "jobs/2", "jobs/3");
        assertThat(d.table().list("jobs/", 2, d.time()))
                .extracting(LockInfo::name)
                .containsExactly("jobs/1", "jobs/10");
        assertThat(d.table().list("", 100, d.time()))
                .extracting(LockInfo::name)
                .containsExactly("b", "jobs", "jobs/1", "jobs/10", "jobs/2", "jobs/3");
        assertThat(d.table().list("jobs/", 0, d.time())).isEmpty();
        assertThat(d.table().list("jobs/", -1, d.time())).isEmpty();
        assertThat(d.table().list("nothing", 10, d.time())).isEmpty();
    }
}
