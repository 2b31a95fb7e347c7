package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A lease granted at the end of a wait longer than its expiry stays valid: the watchdog must not
 * count the expiry from the start of the wait (which would report the lease lost at its first round
 * although the store renewed it).
 */
class LongWaitTest {
    @Test
    void aLeaseGrantedAfterAWaitLongerThanItsExpiryIsNotReportedLost() throws InterruptedException {
        SharedMemoryStore store = new SharedMemoryStore();
        ClientOptions shortLived =
                ClientOptions.builder().sessionTtl(Duration.ofSeconds(1)).build();
        try (StoreLockClient holder = new StoreLockClient(store.connect(), ClientOptions.defaults());
                StoreLockClient waiter = new StoreLockClient(store.connect(), shortLived)) {
            Lease held = holder.lock("long-wait").acquire(Duration.ofSeconds(5));
            Thread releaser = new Thread(() -> {
                try {
                    Thread.sleep(2_500); // longer than the waiter's 1 s expiry
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                held.release();
            });
            releaser.start();
            Lease lease = waiter.lock("long-wait").acquire(Duration.ofSeconds(10));
            releaser.join();
            Thread.sleep(1_500); // several watchdog rounds, more than the expiry
            assertThat(lease.isValid()).as("a lease its watchdog renews").isTrue();
        }
    }
}
