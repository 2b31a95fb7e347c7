package io.holdfast.spring;

import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * {@code holdfast} in the actuator's health: UP when the client is open and the service answers a read (it
 * looks up the probe lock, {@code holdfast.health.probe}, without taking it); DOWN when the client is closed,
 * its session has expired, or the read fails (the error is in the details). Details: the service (its URI
 * without credentials or query) and the session id.
 *
 * <p>The read waits at most {@code holdfast.request-timeout}: an unreachable service makes the health check
 * that slow. With access control on, the client's identity needs {@code read} on the probe name.
 */
public class HoldfastHealthIndicator extends AbstractHealthIndicator {
    private final LockClient client;
    private final String service;
    private final String probe;

    public HoldfastHealthIndicator(LockClient client, String uri, String probe) {
        super("Holdfast health check failed");
        this.client = client;
        this.service = redact(uri);
        this.probe = probe;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.withDetail("service", service);
        if (!client.isOpen()) {
            builder.down().withDetail("reason", "the client is closed or its session expired");
            return;
        }
        builder.withDetail("session", client.sessionId());
        try {
            client.admin().describe(probe);
        } catch (UnsupportedFeatureException e) {
            builder.up().withDetail("probe", "this backend has no read-only lookup; the session is open");
            return;
        }
        builder.up();
    }

    /** scheme://hosts/path: no user:password@, no ?query (tokens, passwords). */
    static String redact(String uri) {
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
