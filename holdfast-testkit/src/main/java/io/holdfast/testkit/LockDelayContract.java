package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link Capability#LOCK_DELAY}: the locks of a session that <em>expired</em> stay ungrantable for
 * its lock-delay; a release or a close frees them at once.
 */
abstract class LockDelayContract extends ContractSupport {
    LockDelayContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void aReleasedLockIsFreeAtOnceWhateverTheLockDelay() {
        assumeCapability(Capability.LOCK_DELAY);
        LockClient client = open(options().lockDelay(Duration.ofSeconds(30)).build());
        take(client.lock(name("released"))).release();
        assertThat(isFree(observer().lock(name("released"))))
                .as("a lock released by a client with a lock-delay")
                .isTrue();
        take(client.lock(name("closed")));
        client.close();
        assertThat(isFree(observer().lock(name("closed"))))
                .as("a lock of a closed client with a lock-delay")
                .isTrue();
    }

    @Test
    void anExpiredSessionsLocksStayBlockedForTheLockDelay() {
        assumeCapability(Capability.LOCK_DELAY);
        String n = name("a");
        Duration ttl = fixture().shortSessionTtl();
        Duration delay = Duration.ofSeconds(1);
        LockClient doomed = open(options().sessionTtl(ttl).lockDelay(delay).build());
        take(doomed.lock(n));
        LockClient survivor = open();
        Background<Lease> next =
                inBackground("next-waiter", () -> survivor.lock(n).acquire(LONG_WAIT));
        awaitQueued(n, 1);

        long crashedAt = System.nanoTime();
        crash(doomed);

        next.join(expiryBound().plus(delay));
        assertThat(millisSince(crashedAt))
                .as("milliseconds from the crash to the next grant, session TTL %s, lock-delay %s", ttl, delay)
                .isGreaterThanOrEqualTo(ttl.toMillis() / 2 + delay.toMillis());
    }
}
