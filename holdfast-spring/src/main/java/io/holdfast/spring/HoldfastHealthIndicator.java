package io.holdfast.spring;

import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.internal.DaemonThreads;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * {@code holdfast} in the actuator's health: UP when the client is open and the service answers a read (it
 * looks up the probe lock, {@code holdfast.health.probe}, without taking it); DOWN when the client is closed,
 * its session has expired, the read fails (the error is in the details), or no answer comes within {@code
 * holdfast.health.timeout}. Details: the service (its URI without credentials or query) and the session id.
 *
 * <p>The health check waits at most {@code holdfast.health.timeout}, although the client itself retries an
 * unreachable service for much longer ({@code holdfast.retry.max-elapsed}, 30 s by default): the read runs on
 * a thread of its own, and while one is still waiting no second one is started, so a polled health endpoint
 * neither hangs nor piles up threads. With access control on, the client's identity needs {@code read} on
 * the probe name.
 */
public class HoldfastHealthIndicator extends AbstractHealthIndicator {
    private final LockClient client;
    private final String service;
    private final String probe;
    private final Duration timeout;
    private CompletableFuture<Void> inFlight;

    /** With the default {@code holdfast.health.timeout}, 3 s. */
    public HoldfastHealthIndicator(LockClient client, String uri, String probe) {
        this(client, uri, probe, Duration.ofSeconds(3));
    }

    public HoldfastHealthIndicator(LockClient client, String uri, String probe, Duration timeout) {
        super("Holdfast health check failed");
        this.client = client;
        this.service = redact(uri);
        this.probe = probe;
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("holdfast.health.timeout must be positive, not "
                    + io.holdfast.internal.DurationText.format(timeout));
        }
        this.timeout = timeout;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) throws Exception {
        builder.withDetail("service", service);
        if (!client.isOpen()) {
            builder.down().withDetail("reason", "the client is closed or its session expired");
            return;
        }
        builder.withDetail("session", client.sessionId());
        try {
            read().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            builder.down().withDetail("reason", "the service did not answer within " + timeout);
            return;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnsupportedFeatureException) {
                builder.up().withDetail("probe", "this backend has no read-only lookup; the session is open");
                return;
            }
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        builder.up();
    }

    /** The read in progress, or a new one: at most one at a time. */
    private synchronized CompletableFuture<Void> read() {
        if (inFlight == null || inFlight.isDone()) {
            inFlight = CompletableFuture.runAsync(
                    () -> client.admin().describe(probe),
                    task -> DaemonThreads.thread(task, "holdfast-health-probe").start());
        }
        return inFlight;
    }

    /** scheme://hosts/path: no user:password@, no ?query (tokens, passwords). */
    public static String redact(String uri) {
        if (uri == null) {
            return "";
        }
        String s = uri;
        int q = s.indexOf('?');
        if (q >= 0) {
            s = s.substring(0, q);
        }
        int scheme = s.indexOf("://");
        int at = s.lastIndexOf('@');
        if (scheme >= 0 && at > scheme) {
            s = s.substring(0, scheme + 3) + s.substring(at + 1);
        }
        return s;
    }
}
