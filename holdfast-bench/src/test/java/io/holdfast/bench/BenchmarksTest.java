package io.holdfast.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jmh.infra.Blackhole;

/** The benchmarks measure what they claim: the commands succeed, the state stays as set up. */
class BenchmarksTest {
    private static final Blackhole BH = new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"one,text", "rotating,text", "one,bits", "rotating,bits"})
    void uncontendedPairsAreGrantedAndReleased(String names, String id) throws Exception {
        UncontendedBench b = new UncontendedBench();
        b.names = names;
        b.id = id;
        b.setup();
        for (int i = 0; i < 3 * UncontendedBench.RING + 5; i++) {
            b.prebuilt(BH);
            assertThat(b.ringTable().resourceCount()).isZero();
            assertThat(b.alloc()).isEqualTo(new Reply.Ok(0));
            b.codec(BH);
            assertThat(b.codecTable().resourceCount()).isZero();
            assertThat(b.allocTable().resourceCount()).isZero();
        }
        // Every pre-built release carried the right token, or the lock would still be held.
        assertThat(b.ringTable().lastToken()).isEqualTo(5);
        assertThat(b.ringTable().sessionCount()).isEqualTo(1);
        assertThat(b.codecTable().lastToken()).isEqualTo(5);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16, 256})
    void handoffsGoRoundTheQueue(int waiters) {
        ContendedBench b = new ContendedBench();
        b.waiters = waiters;
        b.setup();
        for (int i = 0; i < 3 * (waiters + 1) + 2; i++) {
            b.handoff(BH);
            b.check();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {10, 100})
    void deadlockChecks(int length) {
        DeadlockBench b = new DeadlockBench();
        b.length = length;
        b.setup();
        for (int i = 0; i < 100; i++) {
            Reply refused = b.closesCycle(BH);
            assertThat(refused).isInstanceOfSatisfying(Reply.Failed.class, f -> {
                assertThat(f.code()).isEqualTo(ErrorCode.DEADLOCK);
                assertThat(f.cycle()).hasSize(Math.min(length, 64)); // replies name at most 64 locks
            });
            assertThat(b.noCycle(BH)).isEqualTo(new Reply.Ok(1));
            assertThat(b.noCycleBaseline(BH)).isEqualTo(new Reply.Ok(1));
        }
        b.check();
    }

    @Test
    void busyTableHoldsItsLocks() {
        BusyTableBench b = new BusyTableBench();
        b.held = 1_000;
        b.setup();
        for (int i = 0; i < 10_000; i++) {
            assertThat(b.alloc()).isEqualTo(new Reply.Ok(0));
        }
        assertThat(b.table().resourceCount()).isEqualTo(1_000);
        assertThat(b.table().sessionCount()).isEqualTo(101);
    }
}
