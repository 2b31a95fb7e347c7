package io.holdfast.store;

import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.holdfast.lease.Retries;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The release path of a {@link StoreLockClient}: what its leases do in the store once granted
 * (renew, give back), and how a grant nobody will hold is given back.
 *
 * <p><b>What it guarantees.</b> A lease's {@link #release} is retried, with the client's {@link
 * io.holdfast.RetryPolicy}, while the store cannot be reached, since otherwise the lock stays taken
 * until its expiry; "not held" after an attempt whose answer was lost counts as released. After a
 * {@linkplain StoreLockClient#simulateCrash() simulated crash} nothing reaches the store from here.
 *
 * <p><b>What it does not.</b> A renewal is tried once: the watchdog ({@link
 * io.holdfast.lease.ManagedLease}) decides when to try again. The quiet releases ({@link
 * #releaseQuietly}, {@link #releaseOnClose}) are tried once and only logged when they fail.
 *
 * <p><b>A failure story.</b> Redis restarts while a holder releases {@code orders/42}: the first
 * attempt fails with {@link UnavailableException}, the second, a policy pause later, reaches the restarted
 * Redis and finds nothing (the first had deleted the key before the connection broke), which
 * counts as released rather than as a lost lock.
 */
final class StoreReleases {
    /** The client's logger: its messages keep the category they always had. */
    private static final Logger log = LoggerFactory.getLogger(StoreLockClient.class);

    private final StoreBackend backend;
    private final Retries retries;
    private final BooleanSupplier crashed;

    /** @param crashed whether the client has simulated a crash: then nothing is sent to the store */
    StoreReleases(StoreBackend backend, ClientOptions options, BooleanSupplier crashed) {
        this.backend = backend;
        this.crashed = crashed;
        // Stopped by a crash, not by close: close releases through here. Slept in whole
        // milliseconds, as the release path always has.
        this.retries = Retries.of(options.retryPolicy(), options.ticker())
                .stopWhen(crashed)
                .pause(pause -> Thread.sleep(pause.toMillis()));
    }

    /** Whether the client has simulated a crash. */
    boolean crashed() {
        return crashed.getAsBoolean();
    }

    /**
     * Pushes the grant's expiry on, once.
     *
     * @return false if the store no longer has it
     * @throws UnavailableException if the store cannot be reached
     */
    boolean renew(Grant grant) {
        return backend.renew(grant);
    }

    /**
     * Gives a lease's grant back, retrying while the store cannot be reached.
     *
     * @return false if the store no longer had it (it expired or was revoked)
     * @throws UnavailableException if the store cannot be reached within the retry policy, or the
     *     client crashed; interrupted between attempts, the thread's flag is restored and the last
     *     failure thrown
     */
    boolean release(Grant grant) {
        if (crashed()) {
            throw new UnavailableException(backend.provider() + ": the client has crashed (test)");
        }
        try {
            return retries.onRetry((e, attempt, pause) -> log.debug(
                            "{}: store unavailable while releasing {}; retrying",
                            backend.provider(),
                            grant.request().describe(),
                            e))
                    // "Not held" after an attempt whose outcome we never heard: that attempt released it.
                    .call(attempt -> backend.release(grant) || attempt > 1, e -> e instanceof UnavailableException);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw (UnavailableException) e.getCause();
        }
    }

    /** Gives back a grant that came too late (its wait was called off), once; a failure leaves it to expire. */
    void releaseQuietly(Grant grant) {
        try {
            backend.release(grant);
        } catch (RuntimeException e) {
            log.debug(
                    "{}: releasing {} failed; it will expire",
                    backend.provider(),
                    grant.request().describe(),
                    e);
        }
    }

    /** Gives back a lease's grant as the client closes, once; a failure leaves it to expire. */
    void releaseOnClose(StoreLease lease) {
        try {
            backend.release(lease.grant());
        } catch (RuntimeException e) {
            log.warn(
                    "{}: could not release {} on close; the store lets it expire",
                    backend.provider(),
                    lease.describe(),
                    e);
        }
    }
}
