package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.Capability;
import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.UnsupportedFeatureException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link LockClient#latch} and {@link LockClient#barrier}: recipes composed from a register and a
 * watch of it, on every provider with {@link Capability#REGISTERS}. Every party is a client of its
 * own, as separate processes would be.
 */
abstract class RecipeContract extends ContractSupport {
    RecipeContract(LockProviderContract suite) {
        super(suite);
    }

    /** A wait that is expected to run out. */
    private static final Duration SHORT = Duration.ofMillis(300);

    /** How many times each client counts down in the concurrent test. */
    private static final int ROUNDS = 20;

    // ------------------------------------------------------------------------------ latches

    /**
     * Every countDown counts once, however many clients count at the same moment: N clients count
     * down a count of N × {@value #ROUNDS} together, their compare-and-sets colliding.
     */
    @Test
    void countingDownByNClientsAtOnceReleasesTheWaitersOfOtherClients() throws Exception {
        assumeCapability(Capability.REGISTERS);
        String n = name("latch");
        int counters = 8;
        assertThat(open().latch(n).trySetCount(counters * ROUNDS)).isTrue();
        List<Background<Boolean>> waiters = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            // A wait longer than the whole count-down: opening the counters and their 160
            // compare-and-sets outlasted LONG_WAIT on a loaded machine (36 s, CI rehearsal of
            // 2026-11-30), and a wait that runs out first says nothing of the release. Whether
            // the last countDown releases it is checked below, within PROMPTLY.
            waiters.add(inBackground("waiter-" + i, () -> open().latch(n).await(LONG_WAIT.multipliedBy(10))));
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Background<Void>> counting = new ArrayList<>();
        for (int i = 0; i < counters; i++) {
            DistributedLatch latch = open().latch(n);
            counting.add(inBackground("counter-" + i, () -> {
                // the gate opens once every client is open: on a loaded machine that outlasts PROMPTLY
                assertThat(start.await(LONG_WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .as("the start of the count-downs")
                        .isTrue();
                for (int round = 0; round < ROUNDS; round++) {
                    latch.countDown();
                }
                return null;
            }));
        }
        waiters.forEach(
                w -> assertThat(w.result()).as("a waiter before any count down").isNotDone());
        start.countDown(); // all counters at once: their compare-and-sets collide
        for (Background<Void> counter : counting) {
            counter.join(LONG_WAIT);
        }
        assertThat(observer().latch(n).count())
                .as("each of %d concurrent countDowns counted once", counters * ROUNDS)
                .isZero();
        for (Background<Boolean> waiter : waiters) {
            assertThat(waiter.join(PROMPTLY))
                    .as("a waiter released by the last countDown")
                    .isTrue();
        }
    }

    @Test
    void awaitIsFalseAtItsTimeoutWhileTheCountIsAboveZero() throws Exception {
        assumeCapability(Capability.REGISTERS);
        DistributedLatch latch = open().latch(name("latch"));
        assertThat(latch.trySetCount(2)).isTrue();
        latch.countDown();
        assertThat(latch.await(Duration.ZERO)).as("a zero timeout only reads").isFalse();
        long start = System.nanoTime();
        assertThat(observer().latch(latch.name()).await(SHORT)).isFalse();
        assertThat(millisSince(start)).isGreaterThanOrEqualTo(SHORT.toMillis());
        assertThat(Futures.get(observer().latch(latch.name()).awaitAsync(SHORT), PROMPTLY))
                .isFalse();
        assertThat(latch.count()).isEqualTo(1);
        latch.countDown();
        assertThat(observer().latch(latch.name()).await(Duration.ZERO))
                .as("open")
                .isTrue();
        assertThat(Futures.get(observer().latch(latch.name()).awaitAsync(Duration.ZERO), PROMPTLY))
                .isTrue();
    }

    @Test
    void trySetCountIsRefusedWhileACountRunsAndAcceptedAtZero() {
        assumeCapability(Capability.REGISTERS);
        String n = name("latch");
        DistributedLatch coordinator = open().latch(n);
        DistributedLatch other = open().latch(n);
        assertThat(coordinator.count()).as("never set").isZero();
        assertThat(coordinator.trySetCount(3)).isTrue();
        assertThat(other.trySetCount(5)).as("while counting").isFalse();
        assertThat(other.count()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            other.countDown();
        }
        assertThat(other.trySetCount(0)).as("0 at zero sets nothing").isTrue();
        assertThat(other.trySetCount(2)).as("at zero again").isTrue();
        assertThat(coordinator.count()).isEqualTo(2);
        assertThatThrownBy(() -> coordinator.trySetCount(-1)).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void countDownAtZeroStaysAtZero() throws Exception {
        assumeCapability(Capability.REGISTERS);
        DistributedLatch latch = open().latch(name("latch"));
        latch.countDown();
        assertThat(latch.count()).as("never set").isZero();
        assertThat(latch.trySetCount(1)).isTrue();
        latch.countDown();
        latch.countDown();
        assertThat(latch.count()).as("counted down twice from 1").isZero();
        assertThat(observer().latch(latch.name()).await(Duration.ZERO)).isTrue();
        assertThat(latch.trySetCount(1))
                .as("a count below zero would refuse this")
                .isTrue();
    }

    /**
     * Across a reset: a waiter is released by the generation it found reaching zero, even when the
     * latch is armed again at once, before the waiter looks (a polling watch sees the new count only).
     */
    @Test
    void aWaiterIsReleasedEvenWhenTheLatchIsArmedAgainAtOnce() throws Exception {
        assumeCapability(Capability.REGISTERS);
        String n = name("latch");
        DistributedLatch coordinator = open().latch(n);
        assertThat(coordinator.trySetCount(1)).isTrue();
        Background<Boolean> waiter =
                inBackground("waiter", () -> open().latch(n).await(LONG_WAIT));
        long deadline = System.nanoTime() + PROMPTLY.toNanos();
        // Each round completes the waiter's generation, whichever it found, and re-arms at once.
        while (!waiter.isDone() && System.nanoTime() < deadline) {
            coordinator.countDown();
            assertThat(coordinator.trySetCount(1)).isTrue();
        }
        assertThat(waiter.join(PROMPTLY)).isTrue();
        assertThat(observer().latch(n).await(Duration.ZERO))
                .as("a new waiter waits for the new count")
                .isFalse();
    }

    @Test
    void aRegisterThatHoldsSomethingElseIsNoLatchAndNoBarrier() {
        assumeCapability(Capability.REGISTERS);
        String n = name("taken");
        observer().register(n).compareAndSet(0, "not a latch".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> open().latch(n).count())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("other than a latch");
        assertThatThrownBy(() -> open().barrier(n, 2).arrived())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("other than a barrier");
    }

    // ------------------------------------------------------------------------------ barriers

    @Test
    void threePartiesPassTogetherAndTheNextGenerationMeetsAgain() throws Exception {
        assumeCapability(Capability.REGISTERS);
        String n = name("barrier");
        for (int generation = 1; generation <= 2; generation++) {
            assertThat(meet(n, 3)).as("generation %d", generation).containsExactlyInAnyOrder(0, 1, 2);
            assertThat(observer().barrier(n, 3).arrived()).isZero();
        }
        assertThat(open().barrier(name("alone"), 1).await(Duration.ZERO))
                .as("one party meets itself")
                .isZero();
    }

    /**
     * A timeout withdraws the party that gave up: the parties still waiting keep waiting for a full
     * meeting, and the next one is whole (a leftover arrival would let it pass a party short).
     */
    @Test
    void aTimeoutThrowsWithdrawsTheArrivalAndBreaksNothing() throws Exception {
        assumeCapability(Capability.REGISTERS);
        String n = name("barrier");
        assertThatThrownBy(() -> open().barrier(n, 3).await(SHORT))
                .isInstanceOf(LockTimeoutException.class)
                .hasMessageContaining(n)
                .hasMessageContaining("withdrew");
        assertThat(observer().barrier(n, 3).arrived())
                .as("after a lone party timed out")
                .isZero();

        Background<Integer> patient = arrive(n, 3, 1);
        assertThatThrownBy(() -> open().barrier(n, 3).await(SHORT)).isInstanceOf(LockTimeoutException.class);
        assertThat(observer().barrier(n, 3).arrived()).isEqualTo(1);
        assertThat(patient.result()).as("the party still waiting").isNotDone();
        Background<Integer> second = arrive(n, 3, 2);
        int last = open().barrier(n, 3).await(LONG_WAIT);
        assertThat(List.of(patient.join(PROMPTLY), second.join(PROMPTLY), last)).containsExactlyInAnyOrder(0, 1, 2);
        assertThat(meet(n, 3)).as("the next generation").containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void anInterruptedPartyWithdrawsItsArrival() {
        assumeCapability(Capability.REGISTERS);
        String n = name("barrier");
        Background<Integer> party = arrive(n, 2, 1);
        party.interrupt();
        assertThat(party.failure(PROMPTLY)).isInstanceOf(InterruptedException.class);
        assertThat(observer().barrier(n, 2).arrived()).isZero();
    }

    @Test
    void aHandleForAnotherNumberOfPartiesIsRefusedWhileAGenerationIsUnderWay() {
        assumeCapability(Capability.REGISTERS);
        String n = name("barrier");
        Background<Integer> first = arrive(n, 3, 1);
        assertThatThrownBy(() -> open().barrier(n, 2).await(SHORT))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("gathering 3 parties");
        assertThat(observer().barrier(n, 3).arrived()).isEqualTo(1);
        first.interrupt();
        assertThat(first.failure(PROMPTLY)).isInstanceOf(InterruptedException.class);
    }

    /** Arrivals do not belong to sessions: a party that dies after arriving still counts. */
    @Test
    void aPartyThatDiesAfterArrivingStillCounts() throws Exception {
        assumeCapability(Capability.REGISTERS);
        String n = name("barrier");
        LockClient doomed = open();
        inBackground("doomed", () -> doomed.barrier(n, 2).await(LONG_WAIT));
        eventually(PROMPTLY)
                .alias("the doomed party to arrive")
                .until(() -> observer().barrier(n, 2).arrived() == 1);
        crash(doomed);
        assertThat(open().barrier(n, 2).await(PROMPTLY))
                .as("the survivor completes the generation with the dead party counted")
                .isZero();
    }

    @Test
    void badInputIsRefusedByName() {
        LockClient client = open();
        assertThatThrownBy(() -> client.barrier(name("b"), 0))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("parties");
        assertThatThrownBy(() -> client.barrier(name("b"), DistributedBarrier.MAX_PARTIES + 1))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.latch("")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.latch(name("l")).await(null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> client.latch(name("l")).awaitAsync(Duration.ofMillis(-1)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> client.barrier(name("b"), 2).await(null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> client.barrier(name("b"), 2).await(Duration.ofDays(2)))
                .isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void withoutRegistersLatchesAndBarriersAreRefusedByName() {
        Assumptions.assumeFalse(has(Capability.REGISTERS), "the provider has registers: the tests above ran");
        LockClient client = open();
        assertThatThrownBy(() -> client.latch(name("l")).trySetCount(1))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("latches need REGISTERS");
        assertThatThrownBy(() -> client.barrier(name("b"), 2).await(SHORT))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("barriers need REGISTERS");
    }

    // ------------------------------------------------------------------------------ helpers

    /**
     * A party of a client of its own arriving in the background; returns once the barrier counts
     * {@code arrived} arrivals, so that the caller knows it is waiting.
     */
    private Background<Integer> arrive(String name, int parties, int arrived) {
        LockClient client = open();
        Background<Integer> party = inBackground(
                "party-" + arrived, () -> client.barrier(name, parties).await(LONG_WAIT));
        eventually(PROMPTLY)
                .alias(arrived + " parties to have arrived at " + name)
                .until(() -> observer().barrier(name, parties).arrived() == arrived || party.isDone());
        assertThat(party.result())
                .as("party %d before the meeting is complete", arrived)
                .isNotDone();
        return party;
    }

    /** One full meeting: {@code parties - 1} arrive and wait, the last completes it; their indices. */
    private List<Integer> meet(String name, int parties) throws InterruptedException {
        List<Background<Integer>> waiting = new ArrayList<>();
        for (int i = 1; i < parties; i++) {
            waiting.add(arrive(name, parties, i));
        }
        List<Integer> indices = new ArrayList<>();
        indices.add(open().barrier(name, parties).await(LONG_WAIT));
        for (Background<Integer> party : waiting) {
            indices.add(party.join(PROMPTLY));
        }
        return indices;
    }
}
