package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link Capability#LEASE_TIMEOUT}: a live holder's watchdog keeps its lease; a dead holder's lease
 * comes back after the lease timeout, whatever its session's TTL.
 */
abstract class LeaseTimeoutContract extends ContractSupport {
    /**
     * Long enough that a renewal every third of it survives a loaded 2-core CI machine (300 ms
     * was flaky there), short enough to keep the suite quick.
     */
    private static final Duration LEASE_TIMEOUT = Duration.ofSeconds(1);

    LeaseTimeoutContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void theWatchdogKeepsALiveHoldersLeaseValid() throws InterruptedException {
        assumeCapability(Capability.LEASE_TIMEOUT);
        String n = name("a");
        Lease lease = open().lock(n).acquire(AcquireOptions.waitUpTo(PROMPTLY).withLeaseTimeout(LEASE_TIMEOUT));
        AtomicBoolean lost = new AtomicBoolean();
        lease.onLost(e -> lost.set(true));
        DistributedLock probe = observer().lock(n);
        Duration several = LEASE_TIMEOUT.multipliedBy(3);

        eventually(several.plus(PROMPTLY))
                .pollInterval(Duration.ofMillis(50))
                .during(several)
                .alias("a lease with a " + LEASE_TIMEOUT + " timeout to stay held for " + several)
                .until(() -> lease.isValid() && !lost.get() && !isFree(probe));

        lease.release();
        assertThat(isFree(probe)).isTrue();
    }

    @Test
    void aCrashedHoldersLeaseTimeoutFreesTheLockLongBeforeItsSessionTtl() throws InterruptedException {
        assumeCapability(Capability.LEASE_TIMEOUT);
        String n = name("a");
        LockClient doomed = open(options().sessionTtl(Duration.ofMinutes(1)).build());
        Lease lease = doomed.lock(n).acquire(AcquireOptions.waitUpTo(PROMPTLY).withLeaseTimeout(LEASE_TIMEOUT));

        crash(doomed);

        Lease next = open().lock(n).acquire(LEASE_TIMEOUT.plus(PROMPTLY));
        assertThat(next.fencingToken()).isGreaterThan(lease.fencingToken());
    }
}
