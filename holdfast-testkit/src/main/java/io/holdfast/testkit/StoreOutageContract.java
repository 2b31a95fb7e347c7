package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The store goes away and comes back: calls fail with {@link UnavailableException} within their
 * time instead of hanging, and after a restart the store grants again with larger tokens, while a
 * lease held across the restart is either still held or reported lost, never silently shared.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
abstract class StoreOutageContract extends ContractSupport {
    /** The request timeout of the clients in these tests: how long one call to a dead store may take. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

    private boolean stopped;

    StoreOutageContract(LockProviderContract suite) {
        super(suite);
    }

    @AfterEach
    final void restartIfStopped() {
        if (stopped) {
            fixture().startStore();
            stopped = false;
        }
    }

    private void stopStore() {
        try {
            fixture().stopStore();
        } catch (UnsupportedOperationException e) {
            Assumptions.abort("the fixture cannot stop its store: " + e.getMessage());
        }
        stopped = true;
    }

    private void startStore() {
        fixture().startStore();
        stopped = false;
    }

    private ClientOptions.Builder outageOptions() {
        return options().requestTimeout(REQUEST_TIMEOUT);
    }

    @Test
    void aStoppedStoreGivesUnavailableWithinTheWaitInsteadOfHanging() {
        // A session long enough to outlive the outage: the client must say "unavailable", which a
        // session expiring by itself would otherwise pre-empt.
        LockClient client =
                open(outageOptions().sessionTtl(Duration.ofSeconds(60)).build());
        DistributedLock lock = client.lock(name("a"));
        take(lock).release();
        stopStore();

        Duration wait = Duration.ofSeconds(3);
        long start = System.nanoTime();
        assertThatThrownBy(() -> lock.acquire(wait))
                .as("acquire while the store is down")
                .isInstanceOf(UnavailableException.class);
        long bound = wait.plus(REQUEST_TIMEOUT.multipliedBy(2)).plus(PROMPTLY).toMillis();
        assertThat(millisSince(start)).as("ms until the acquire gave up").isLessThan(bound);

        start = System.nanoTime();
        assertThatThrownBy(lock::tryAcquire)
                .as("tryAcquire while the store is down")
                .isInstanceOf(UnavailableException.class);
        assertThat(millisSince(start))
                .as("ms until the tryAcquire gave up")
                .isLessThan(REQUEST_TIMEOUT.multipliedBy(2).plus(PROMPTLY).toMillis());
    }

    @Test
    void afterARestartTheStoreGrantsAgainWithLargerTokens() throws InterruptedException {
        LockClient client = open(outageOptions().build());
        Lease before = take(client.lock(name("a")));
        long token = before.fencingToken();
        before.release();

        stopStore();
        startStore();

        Lease again = retryWhileUnavailable(() -> client.lock(name("a")).tryAcquire())
                .orElseThrow(() -> new AssertionError("the lock should be free after the restart"));
        assertThat(again.fencingToken())
                .as("a token after the restart, against one before")
                .isGreaterThan(token);
        Lease other = open(outageOptions().build()).lock(name("b")).acquire(PROMPTLY);
        assertThat(other.fencingToken())
                .as("a new client's token after the restart")
                .isGreaterThan(again.fencingToken());
    }

    @Test
    void aLeaseHeldAcrossARestartIsKeptOrReportedLostNeverShared() throws InterruptedException {
        String n = name("held");
        LockClient holder =
                open(outageOptions().sessionTtl(Duration.ofSeconds(10)).build());
        Lease lease = take(holder.lock(n));

        stopStore();
        startStore();

        LockClient other = open(outageOptions().build());
        Optional<Lease> taken = retryWhileUnavailable(() -> other.lock(n).tryAcquire());
        if (taken.isPresent()) {
            assertThat(taken.get().fencingToken())
                    .as("the token of a grant after the restart, against the holder's")
                    .isGreaterThan(lease.fencingToken());
            eventually(Duration.ofSeconds(10).plus(PROMPTLY))
                    .alias("the old holder to be told its lease was lost, since another client got the lock")
                    .until(() -> !lease.isValid());
        } else if (lease.isValid()) {
            lease.release(); // a LockLostException here means the store had dropped it while it looked valid
            assertThat(isFree(other.lock(n)))
                    .as("the lock after its holder released it")
                    .isTrue();
        } else {
            Lease next = other.lock(n).acquire(LONG_WAIT);
            assertThat(next.fencingToken()).isGreaterThan(lease.fencingToken());
        }
    }

    /** Calls {@code call} until the store answers, for up to {@link #LONG_WAIT}. */
    private static <T> T retryWhileUnavailable(Supplier<T> call) throws InterruptedException {
        long deadline = System.nanoTime() + LONG_WAIT.toNanos();
        while (true) {
            try {
                return call.get();
            } catch (UnavailableException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
