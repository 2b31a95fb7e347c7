package io.holdfast.verify.client;

import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's first session, asked for again while the cluster cannot answer yet: before any fault,
 * a node that is slow to answer (a machine loaded by other rounds and builds) is not what a round
 * tests, and a round whose worker gave up after one connect timeout broke off with no operation
 * (a soak round at load 29: "could not open a session … within the connect timeout (5s)"). Only
 * {@link UnavailableException} is tried again, as the {@link RetryPolicy} says (its delays, its
 * attempts and its time); any other failure (a bad address, refused credentials) ends the worker
 * at once, as before.
 */
final class FirstOpen {
    private static final Logger LOG = LoggerFactory.getLogger(FirstOpen.class);

    private FirstOpen() {}

    /**
     * A policy of fixed pauses: every {@code pause}, for {@code within} after the first try (the
     * harness waits 60 s for a worker's READY).
     */
    static RetryPolicy every(Duration pause, Duration within) {
        return new RetryPolicy(pause, pause, 1.0, 0.0, 1000, within);
    }

    /**
     * Calls {@code open} until it answers; after an {@link UnavailableException}, again while
     * {@code policy} allows another attempt, then throws the last one.
     */
    static <T> T retrying(Supplier<T> open, RetryPolicy policy) throws InterruptedException {
        long started = System.nanoTime();
        int tries = 0;
        while (true) {
            try {
                return open.get();
            } catch (UnavailableException e) {
                tries++;
                if (!policy.allowsAnother(tries, Duration.ofNanos(System.nanoTime() - started))) {
                    throw e;
                }
                LOG.warn("the first session did not open (try {}: {}); trying again", tries, e.getMessage());
                Thread.sleep(policy.delayBefore(tries, ThreadLocalRandom.current()::nextDouble)
                        .toMillis());
            }
        }
    }
}
