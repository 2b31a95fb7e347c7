package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedSemaphore;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@link Capability#SEMAPHORE}: permits counted across clients, declared sizes checked. */
abstract class SemaphoreContract extends ContractSupport {
    SemaphoreContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void permitsAreCountedAcrossClients() {
        assumeCapability(Capability.SEMAPHORE);
        String n = name("sem");
        DistributedSemaphore mine = open().semaphore(n, 3);
        assertThat(mine.name()).isEqualTo(n);
        assertThat(mine.maxPermits()).isEqualTo(3);
        Lease two = mine.tryAcquire(2).orElseThrow(() -> new AssertionError("2 of 3 free permits"));
        assertThat(two.mode()).isEqualTo(LockMode.PERMITS);
        assertThat(two.permits()).isEqualTo(2);
        assertThat(two.fencingToken()).isPositive();

        DistributedSemaphore theirs = open().semaphore(n, 3);
        assertThat(theirs.tryAcquire(2)).as("2 permits when 1 is free").isEmpty();
        Lease one = theirs.tryAcquire(1).orElseThrow(() -> new AssertionError("the last free permit"));
        assertThat(theirs.tryAcquire(1)).as("a permit when all 3 are taken").isEmpty();

        two.release();
        Lease again = theirs.tryAcquire(2).orElseThrow(() -> new AssertionError("2 permits after they were released"));
        assertThat(again.fencingToken()).isGreaterThan(one.fencingToken());
    }

    @Test
    void aWaiterIsGrantedWhenEnoughPermitsComeBack() throws InterruptedException {
        assumeCapability(Capability.SEMAPHORE);
        String n = name("sem");
        Lease all = open().semaphore(n, 2).tryAcquire(2).orElseThrow();
        DistributedSemaphore other = open().semaphore(n, 2);
        assertThatThrownBy(() -> other.acquire(1, Duration.ofMillis(200))).isInstanceOf(LockTimeoutException.class);
        CompletableFuture<Lease> wait = other.acquireAsync(1, AcquireOptions.waitUpTo(LONG_WAIT));
        awaitQueued(n, 1);
        assertThat(wait).isNotDone();
        all.release();
        assertThat(Futures.get(wait, PROMPTLY).permits()).isEqualTo(1);
    }

    @Test
    void aDifferentSizeForASemaphoreInUseIsRefused() {
        assumeCapability(Capability.SEMAPHORE);
        String n = name("sem");
        Lease held = open().semaphore(n, 3).tryAcquire(1).orElseThrow();
        DistributedSemaphore wrong = open().semaphore(n, 5);
        assertThatThrownBy(() -> wrong.tryAcquire(1))
                .as("asking a semaphore of 3 permits for one of 5")
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(held.isValid()).isTrue();
        assertThat(open().semaphore(n, 3).tryAcquire(2))
                .as("the 2 free permits, after the refused request")
                .isPresent();
    }

    @Test
    void permitCountsOutsideTheSemaphoreAreRefused() {
        assumeCapability(Capability.SEMAPHORE);
        String n = name("sem");
        DistributedSemaphore sem = open().semaphore(n, 2);
        assertThatThrownBy(() -> sem.tryAcquire(0)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> sem.tryAcquire(3)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> sem.acquire(-1, PROMPTLY)).isInstanceOf(InvalidArgumentException.class);
        assertThat(open().semaphore(n, 2).tryAcquire(2))
                .as("both permits after the refused requests")
                .isPresent();
    }

    @Test
    void aLargeRequestAtTheHeadIsNotOvertakenBySmallerOnes() {
        assumeCapability(Capability.SEMAPHORE, Capability.FAIR_QUEUE);
        String n = name("sem");
        Lease held = open().semaphore(n, 2).tryAcquire(1).orElseThrow();
        CompletableFuture<Lease> large = open().semaphore(n, 2).acquireAsync(2, AcquireOptions.waitUpTo(LONG_WAIT));
        awaitQueued(n, 1);
        DistributedSemaphore smallOne = open().semaphore(n, 2);
        assertThat(smallOne.tryAcquire(1))
                .as("a free permit while a request for 2 waits")
                .isEmpty();
        CompletableFuture<Lease> small = smallOne.acquireAsync(1, AcquireOptions.waitUpTo(LONG_WAIT));
        awaitQueued(n, 2);
        assertThat(small).as("a request for 1 behind a request for 2").isNotDone();

        held.release();
        Lease big = Futures.get(large, PROMPTLY);
        assertThat(big.permits()).isEqualTo(2);
        assertThat(small).as("the request for 1 while the 2 are held").isNotDone();

        big.release();
        assertThat(Futures.get(small, PROMPTLY).permits()).isEqualTo(1);
    }
}
