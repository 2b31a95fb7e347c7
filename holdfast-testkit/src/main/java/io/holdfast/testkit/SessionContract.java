package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.Capability;
import io.holdfast.HasErrorCode;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Sessions end in two ways: {@link LockClient#close()} gives everything back at once; a crashed
 * client's session expires after its TTL and its locks go to the next waiters.
 */
abstract class SessionContract extends ContractSupport {
    SessionContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void closeReleasesEverythingAtOnce() {
        LockClient client = open();
        List<Lease> leases = new ArrayList<>();
        leases.add(take(client.lock(name("a"))));
        leases.add(take(client.lock(name("b"))));
        if (has(Capability.READ_WRITE)) {
            leases.add(take(client.readWriteLock(name("rw")).readLock()));
        }
        if (has(Capability.SEMAPHORE)) {
            leases.add(client.semaphore(name("sem"), 2).tryAcquire(2).orElseThrow());
        }

        client.close();

        assertThat(client.isOpen()).as("isOpen after close").isFalse();
        assertThat(leases).as("leases of a closed client").noneMatch(Lease::isValid);
        LockClient other = open();
        assertThat(other.lock(name("a")).tryAcquire())
                .as("a at once after close")
                .isPresent();
        assertThat(other.lock(name("b")).tryAcquire())
                .as("b at once after close")
                .isPresent();
        if (has(Capability.READ_WRITE)) {
            assertThat(other.readWriteLock(name("rw")).writeLock().tryAcquire())
                    .as("the write lock at once after the reader closed")
                    .isPresent();
        }
        if (has(Capability.SEMAPHORE)) {
            assertThat(other.semaphore(name("sem"), 2).tryAcquire(2))
                    .as("both permits at once after close")
                    .isPresent();
        }
    }

    @Test
    void closeEndsTheClientsWaitsAndTakesThemOffTheQueue() {
        String a = name("a");
        String b = name("b");
        LockClient holder = open();
        Lease heldA = take(holder.lock(a));
        Lease heldB = take(holder.lock(b));
        LockClient leaving = open();
        Background<Lease> blocking =
                inBackground("blocking-waiter", () -> leaving.lock(a).acquire(LONG_WAIT));
        CompletableFuture<Lease> async = leaving.lock(b).acquireAsync(LONG_WAIT);
        awaitQueued(a, 1);
        awaitQueued(b, 1);

        leaving.close();

        assertThat(blocking.failure(PROMPTLY))
                .as("how a blocking wait of a closed client ends")
                .isInstanceOf(HasErrorCode.class);
        assertThat(Futures.failure(async, PROMPTLY))
                .as("how an async wait of a closed client ends")
                .isInstanceOf(HasErrorCode.class);
        heldA.release();
        heldB.release();
        assertThat(isFree(observer().lock(a)))
                .as("a after its waiter's client closed")
                .isTrue();
        assertThat(isFree(observer().lock(b)))
                .as("b after its waiter's client closed")
                .isTrue();
    }

    @Test
    void closeIsIdempotent() {
        LockClient client = open();
        take(client.lock(name("a")));
        client.close();
        assertThatCode(client::close).doesNotThrowAnyException();
        assertThat(client.isOpen()).isFalse();
    }

    /**
     * A crash must not release at once, unless the store frees a dead process's locks itself
     * ({@link ProviderFixture#crashFreesLocksAtOnce()}); then the next waiter must get it promptly.
     */
    @Test
    void aCrashedHoldersLockGoesToTheNextWaiterAfterTheSessionTtl() {
        String n = name("a");
        Duration ttl = fixture().shortSessionTtl();
        LockClient doomed = openShortLived();
        Lease lease = take(doomed.lock(n));
        LockClient survivor = open();
        Background<Lease> next =
                inBackground("next-waiter", () -> survivor.lock(n).acquire(LONG_WAIT));
        awaitQueued(n, 1);

        long crashedAt = System.nanoTime();
        crash(doomed);
        if (fixture().crashFreesLocksAtOnce()) {
            Lease granted = next.join(PROMPTLY);
            assertThat(granted.fencingToken()).isGreaterThan(lease.fencingToken());
            return;
        }
        assertThat(isFree(observer().lock(n)))
                .as("the lock right after its holder crashed (a crash must not release)")
                .isFalse();

        Lease granted = next.join(expiryBound());
        assertThat(millisSince(crashedAt))
                .as("milliseconds from the crash to the next grant, session TTL %s", ttl)
                .isGreaterThanOrEqualTo(ttl.toMillis() / 2);
        assertThat(granted.fencingToken()).isGreaterThan(lease.fencingToken());
    }

    @Test
    void aCrashedClientIsToldItsLeaseWasLost() {
        LockClient doomed = openShortLived();
        Lease lease = take(doomed.lock(name("a")));
        AtomicReference<LockLostException> lost = new AtomicReference<>();
        lease.onLost(lost::set);

        crash(doomed);

        eventually(expiryBound())
                .alias("the crashed client to mark its lease lost")
                .untilAsserted(() -> {
                    assertThat(lost.get()).as("exception given to onLost").isNotNull();
                    assertThat(lease.isValid()).as("isValid").isFalse();
                });
        assertThatThrownBy(lease::checkValid).isInstanceOf(LockLostException.class);
        AtomicReference<LockLostException> late = new AtomicReference<>();
        lease.onLost(late::set);
        eventually(PROMPTLY)
                .alias("a listener added after the loss to be called at once (on a client thread)")
                .until(() -> late.get() != null);
    }

    @Test
    void aWaiterOfACrashedClientDoesNotBlockTheQueue() {
        String n = name("a");
        Lease held = take(open().lock(n));
        LockClient doomed = openShortLived();
        doomed.lock(n).acquireAsync(LONG_WAIT);
        awaitQueued(n, 1);
        LockClient survivor = open();
        Background<Lease> behind =
                inBackground("behind-the-crashed", () -> survivor.lock(n).acquire(LONG_WAIT));
        awaitQueued(n, 2);

        crash(doomed);
        held.release();

        assertThat(behind.join(expiryBound()).isValid()).isTrue();
    }
}
