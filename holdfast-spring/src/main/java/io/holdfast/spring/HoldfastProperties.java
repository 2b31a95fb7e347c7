package io.holdfast.spring;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code holdfast.*}: how the auto-configured {@link io.holdfast.LockClient} connects, and the name prefixes
 * of the integrations. Only {@code holdfast.uri} is required; every duration is checked against the client's
 * bounds at startup, and a bad value stops the application with the property named.
 */
@ConfigurationProperties("holdfast")
public class HoldfastProperties {
    /** Switches the auto-configuration off (no client, health indicator, registry or job advice). */
    private boolean enabled = true;

    /** The lock service or store: holdfast://host:4653,..., jdbc:postgresql://..., redis://..., and so on. */
    private String uri;

    /** The name this application's sessions show in `holdfast locks` and the dashboard (default user@host:pid). */
    private String clientName;

    /** How long the service keeps the session, and its locks, after the last heartbeat (default 10s). */
    private Duration sessionTtl;

    /** How long one call to the service may take (default 10s). */
    private Duration requestTimeout;

    private final Jobs jobs = new Jobs();
    private final LockRegistry lockRegistry = new LockRegistry();
    private final Health health = new Health();

    /** {@code holdfast.jobs.*}: {@link io.holdfast.spring.jobs.ClusterExclusive} jobs. */
    public static class Jobs {
        /** Prepended to every job's lock name. */
        private String prefix = "jobs/";

        public String getPrefix() {
            return prefix;
        }

        public void setPrefix(String prefix) {
            this.prefix = prefix;
        }
    }

    /** {@code holdfast.lock-registry.*}: the Spring Integration {@code LockRegistry}. */
    public static class LockRegistry {
        /** Prepended to every lock key. */
        private String prefix = "spring-integration/";

        /** Lock views kept for reuse; beyond this, views not held are dropped. */
        private int capacity = 10_000;

        public String getPrefix() {
            return prefix;
        }

        public void setPrefix(String prefix) {
            this.prefix = prefix;
        }

        public int getCapacity() {
            return capacity;
        }

        public void setCapacity(int capacity) {
            this.capacity = capacity;
        }
    }

    /** {@code holdfast.health.*}: the actuator health indicator. */
    public static class Health {
        /** The lock the health check looks up (read only: it is never taken). */
        private String probe = "holdfast/health";

        public String getProbe() {
            return probe;
        }

        public void setProbe(String probe) {
            this.probe = probe;
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getUri() {
        return uri;
    }

    public void setUri(String uri) {
        this.uri = uri;
    }

    public String getClientName() {
        return clientName;
    }

    public void setClientName(String clientName) {
        this.clientName = clientName;
    }

    public Duration getSessionTtl() {
        return sessionTtl;
    }

    public void setSessionTtl(Duration sessionTtl) {
        this.sessionTtl = sessionTtl;
    }

    public Duration getRequestTimeout() {
        return requestTimeout;
    }

    public void setRequestTimeout(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    public Jobs getJobs() {
        return jobs;
    }

    public LockRegistry getLockRegistry() {
        return lockRegistry;
    }

    public Health getHealth() {
        return health;
    }
}
