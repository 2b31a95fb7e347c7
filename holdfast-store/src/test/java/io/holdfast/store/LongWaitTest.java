package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A lease granted at the end of a wait longer than its expiry stays valid: the watchdog must not
 * count the expiry from the start of the wait (which would report the lease lost at its first round
 * although the store renewed it). In virtual time: the store, both clients' clocks and their
 * watchdogs run on one {@link FakeTicker} and {@link ManualScheduler}, and the test moves them.
 */
class LongWaitTest {
    private static final Duration STEP = Duration.ofMillis(50);

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler timers = new ManualScheduler(ticker);

    @Test
    void aLeaseGrantedAfterAWaitLongerThanItsExpiryIsNotReportedLost() throws Exception {
        SharedMemoryStore store = new SharedMemoryStore(ticker);
        ClientOptions virtual =
                ClientOptions.builder().ticker(ticker).scheduler(timers).build();
        ClientOptions shortLived =
                virtual.toBuilder().sessionTtl(Duration.ofSeconds(1)).build();
        try (StoreLockClient holder = new StoreLockClient(store.connect(), virtual);
                StoreLockClient waiter = new StoreLockClient(store.connect(), shortLived)) {
            Lease held = holder.lock("long-wait").acquire(Duration.ofSeconds(5));
            CompletableFuture<Lease> waiting = waiter.lock("long-wait").acquireAsync(Duration.ofSeconds(10));
            await("the waiter waits in the store")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> store.waiting() > 0);

            advance(Duration.ofMillis(2_500)); // longer than the waiter's 1 s expiry
            assertThat(held.isValid())
                    .as("the holder's watchdog kept its lease")
                    .isTrue();
            assertThat(waiting).isNotDone();
            held.release();
            // The grant came a whole expiry after the wait began: its watchdog's first round (on
            // the test's timers) confirms it before the acquire hands it out.
            await("the grant, confirmed by a catch-up renewal")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> {
                        timers.advance(Duration.ofMillis(1));
                        return waiting.isDone();
                    });
            Lease lease = waiting.get(10, TimeUnit.SECONDS);

            advance(Duration.ofMillis(1_500)); // several watchdog rounds, more than the expiry
            assertThat(lease.isValid()).as("a lease its watchdog renews").isTrue();
            lease.release();
        }
    }

    /** Moves virtual time in small steps, running the watchdogs' rounds that fall due. */
    private void advance(Duration total) {
        for (long done = 0; done < total.toMillis(); done += STEP.toMillis()) {
            timers.advance(STEP);
        }
    }
}
