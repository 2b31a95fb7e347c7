package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A thread asleep in {@code awaitWatched(target, max)}, after a first call that returns at once
 * (once the store's subscription is in place, or since the thread has seen nothing of the target
 * yet); tells when the second sleep ended.
 */
final class WakeupSleeper {
    /** What a test does to wake the sleeper. */
    @FunctionalInterface
    interface Change {
        void run() throws Exception;
    }

    final CompletableFuture<Long> wokeAt = new CompletableFuture<>();
    volatile long sleptAt;

    WakeupSleeper(WatchWakeupContract.Watcher watcher, WatchTarget target, Duration max) {
        Thread thread = new Thread(
                () -> {
                    try {
                        watcher.awaitWatched(target, TimeUnit.SECONDS.toNanos(1));
                        sleptAt = System.nanoTime();
                        watcher.awaitWatched(target, max.toNanos());
                        wokeAt.complete(System.nanoTime());
                    } catch (Throwable e) {
                        wokeAt.completeExceptionally(e);
                    }
                },
                "sleeper " + target);
        thread.setDaemon(true);
        thread.start();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> sleptAt != 0 && thread.getState() == Thread.State.TIMED_WAITING);
    }

    /** Asserts that the sleep ended after {@code change} began and within {@link WatchWakeupContract#PROMPT_MILLIS} of its end. */
    void wokenPromptlyBy(Change change) throws Exception {
        long before = System.nanoTime();
        change.run();
        long after = System.nanoTime();
        long woke = wokeAt.get(WatchWakeupContract.PROMPT_MILLIS + 5_000, TimeUnit.MILLISECONDS);
        assertThat(woke).as("the sleep did not end before the change").isGreaterThan(before);
        assertThat(TimeUnit.NANOSECONDS.toMillis(Math.max(0, woke - after)))
                .as("ms from the change to the wake-up")
                .isLessThan(WatchWakeupContract.PROMPT_MILLIS);
    }

    /** The length of the sleep, once it ended. */
    long sleptMillis() throws Exception {
        return TimeUnit.NANOSECONDS.toMillis(wokeAt.get(15, TimeUnit.SECONDS) - sleptAt);
    }
}
