package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous waits, and waits that end early: an interrupted or cancelled wait removes its own
 * queue entry, and a grant that raced the cancellation is given back.
 */
abstract class WaitCancellationContract extends ContractSupport {
    WaitCancellationContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void anInterruptedWaitThrowsInterruptedExceptionAndLeavesTheQueue() {
        String n = name("a");
        Lease held = take(open().lock(n));
        LockClient first = open();
        Background<Lease> interrupted =
                inBackground("interrupted", () -> first.lock(n).acquire(LONG_WAIT));
        awaitQueued(n, 1);
        LockClient second = open();
        Background<Lease> behind = inBackground("behind", () -> second.lock(n).acquire(LONG_WAIT));
        awaitQueued(n, 2);

        interrupted.interrupt();

        assertThat(interrupted.failure(PROMPTLY)).isInstanceOf(InterruptedException.class);
        if (has(Capability.INSPECT)) {
            eventually(PROMPTLY)
                    .alias("the interrupted waiter to leave the queue")
                    .until(() -> waitersOf(n) == 1);
        }
        held.release();
        assertThat(behind.join(PROMPTLY).isValid())
                .as("the waiter behind the interrupted one, after the holder released")
                .isTrue();
    }

    @Test
    void anAlreadyInterruptedThreadDoesNotWait() {
        String n = name("a");
        take(open().lock(n));
        DistributedLock lock = open().lock(n);
        Background<Lease> waiter = inBackground("pre-interrupted", () -> {
            Thread.currentThread().interrupt();
            return lock.acquire(LONG_WAIT);
        });
        assertThat(waiter.failure(PROMPTLY)).isInstanceOf(InterruptedException.class);
    }

    @Test
    void acquireAsyncCompletesWithALease() {
        String n = name("a");
        Lease first = Futures.get(open().lock(n).acquireAsync(PROMPTLY), PROMPTLY);
        assertThat(first.isValid()).isTrue();
        CompletableFuture<Lease> second = open().lock(n).acquireAsync(LONG_WAIT);
        awaitQueued(n, 1);
        assertThat(second).as("an async wait while the lock is held").isNotDone();

        first.release();

        Lease granted = Futures.get(second, PROMPTLY);
        assertThat(granted.isValid()).isTrue();
        assertThat(granted.fencingToken()).isGreaterThan(first.fencingToken());
    }

    @Test
    void acquireAsyncFailsWithLockTimeoutExceptionAtItsDeadline() {
        String n = name("a");
        take(open().lock(n));
        CompletableFuture<Lease> wait = open().lock(n).acquireAsync(Duration.ofMillis(200));
        assertThat(Futures.failure(wait, PROMPTLY)).isInstanceOf(LockTimeoutException.class);
    }

    @Test
    void cancellingAnAsyncWaitTakesItOffTheQueue() {
        String n = name("a");
        Lease held = take(open().lock(n));
        CompletableFuture<Lease> cancelled = open().lock(n).acquireAsync(LONG_WAIT);
        awaitQueued(n, 1);
        CompletableFuture<Lease> behind = open().lock(n).acquireAsync(LONG_WAIT);
        awaitQueued(n, 2);

        assertThat(cancelled.cancel(true)).as("cancel of a pending wait").isTrue();

        if (has(Capability.INSPECT)) {
            eventually(PROMPTLY)
                    .alias("the cancelled waiter to leave the queue")
                    .until(() -> waitersOf(n) == 1);
        }
        held.release();
        assertThat(Futures.get(behind, PROMPTLY).isValid())
                .as("the waiter behind the cancelled one, after the holder released")
                .isTrue();
    }

    @Test
    void aGrantThatRacesACancelIsGivenBack() {
        LockClient holder = open();
        LockClient waiter = open();
        for (int round = 0; round < 20; round++) {
            String n = name("race-" + round);
            Lease held = take(holder.lock(n));
            CompletableFuture<Lease> wait = waiter.lock(n).acquireAsync(LONG_WAIT);
            CompletableFuture<Void> released = held.releaseAsync();
            boolean cancelled = wait.cancel(true);
            Futures.get(released, PROMPTLY);
            if (!cancelled) {
                Futures.get(wait, PROMPTLY).release();
            }
            DistributedLock probe = observer().lock(n);
            eventually(PROMPTLY)
                    .alias("round " + round + " (cancel " + (cancelled ? "won" : "lost") + "): the lock to be free")
                    .until(() -> isFree(probe));
        }
    }

    @Test
    void oneClientMayWaitSeveralTimesAtOnce() {
        String a = name("a");
        String b = name("b");
        LockClient holder = open();
        Lease heldA = take(holder.lock(a));
        Lease heldB = take(holder.lock(b));
        LockClient waiter = open();
        CompletableFuture<Lease> waitA1 = waiter.lock(a).acquireAsync(LONG_WAIT);
        awaitQueued(a, 1);
        CompletableFuture<Lease> waitA2 = waiter.lock(a).acquireAsync(LONG_WAIT);
        awaitQueued(a, 2);
        CompletableFuture<Lease> waitB = waiter.lock(b).acquireAsync(LONG_WAIT);
        awaitQueued(b, 1);

        heldB.release();
        assertThat(Futures.get(waitB, PROMPTLY).isValid()).as("the wait for b").isTrue();
        heldA.release();
        eventually(PROMPTLY)
                .alias("one of the client's two waits for a to be granted")
                .until(() -> waitA1.isDone() || waitA2.isDone());
        CompletableFuture<Lease> firstA = waitA1.isDone() ? waitA1 : waitA2;
        CompletableFuture<Lease> secondA = firstA == waitA1 ? waitA2 : waitA1;
        assertThat(secondA)
                .as("the client's other wait for a, while its first lease of a is held")
                .isNotDone();
        Futures.get(firstA, PROMPTLY).release();
        assertThat(Futures.get(secondA, PROMPTLY).isValid()).isTrue();
    }
}
