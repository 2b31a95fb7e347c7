package io.holdfast.verify.client;

import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's first session, asked for again while the cluster cannot answer yet: before any fault,
 * a node that is slow to answer (a machine loaded by other rounds and builds) is not what a round
 * tests, and a round whose worker gave up after one connect timeout broke off with no operation
 * (a soak round at load 29: "could not open a session … within the connect timeout (5s)"). Only
 * {@link UnavailableException} is tried again, every {@link #PAUSE}, until the time given has
 * passed; any other failure (a bad address, refused credentials) ends the worker at once, as
 * before.
 */
final class FirstOpen {
    private static final Logger LOG = LoggerFactory.getLogger(FirstOpen.class);

    /** The pause between two tries. */
    static final Duration PAUSE = Duration.ofMillis(500);

    private FirstOpen() {}

    /**
     * Calls {@code open} until it answers, tries again after an {@link UnavailableException} until
     * {@code within} has passed since the first call, then throws the last one.
     */
    static <T> T retrying(Supplier<T> open, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        int tries = 0;
        while (true) {
            try {
                return open.get();
            } catch (UnavailableException e) {
                tries++;
                if (System.nanoTime() - deadline >= 0) {
                    throw e;
                }
                LOG.warn("the first session did not open (try {}: {}); trying again", tries, e.getMessage());
                Thread.sleep(PAUSE.toMillis());
            }
        }
    }
}
