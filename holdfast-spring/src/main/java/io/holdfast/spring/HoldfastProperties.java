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

    /**
     * How long opening the client may spend reaching the service (default 5s, 100ms to 10m): with the service down,
     * the application's start fails after this, naming each address and why.
     */
    private Duration connectTimeout;

    /**
     * After this application's session expires (not when it releases), how long its locks stay ungrantable, for
     * resources that cannot check fencing tokens (default 0, at most 60s; providers without it refuse it).
     */
    private Duration lockDelay;

    private final Retry retry = new Retry();

    private final Jobs jobs = new Jobs();
    private final LockRegistry lockRegistry = new LockRegistry();
    private final Health health = new Health();
    private final Leader leader = new Leader();

    /**
     * {@code holdfast.retry.*}: how a request that found the service unavailable is retried ({@link
     * io.holdfast.RetryPolicy}); each unset value keeps {@link io.holdfast.RetryPolicy#defaults()}'s.
     */
    public static class Retry {
        /** Delay before the first retry (default 50ms). */
        private Duration initialDelay;

        /** The largest delay (default 2s). */
        private Duration maxDelay;

        /** Growth per attempt, 1 to 10 (default 2). */
        private Double multiplier;

        /** Fraction of each delay that is random, 0 to 1 (default 0.5). */
        private Double jitter;

        /** Attempts in all, the first included, 1 to 1000 (default 25). */
        private Integer maxAttempts;

        /** Total time after which no new attempt starts (default 30s). */
        private Duration maxElapsed;

        /** Whether any value is set. */
        public boolean anySet() {
            return initialDelay != null
                    || maxDelay != null
                    || multiplier != null
                    || jitter != null
                    || maxAttempts != null
                    || maxElapsed != null;
        }

        public Duration getInitialDelay() {
            return initialDelay;
        }

        public void setInitialDelay(Duration initialDelay) {
            this.initialDelay = initialDelay;
        }

        public Duration getMaxDelay() {
            return maxDelay;
        }

        public void setMaxDelay(Duration maxDelay) {
            this.maxDelay = maxDelay;
        }

        public Double getMultiplier() {
            return multiplier;
        }

        public void setMultiplier(Double multiplier) {
            this.multiplier = multiplier;
        }

        public Double getJitter() {
            return jitter;
        }

        public void setJitter(Double jitter) {
            this.jitter = jitter;
        }

        public Integer getMaxAttempts() {
            return maxAttempts;
        }

        public void setMaxAttempts(Integer maxAttempts) {
            this.maxAttempts = maxAttempts;
        }

        public Duration getMaxElapsed() {
            return maxElapsed;
        }

        public void setMaxElapsed(Duration maxElapsed) {
            this.maxElapsed = maxElapsed;
        }
    }

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

    /** {@code holdfast.leader.*}: the election of {@link io.holdfast.spring.leader.ClusterLeader} beans. */
    public static class Leader {
        /** The election this node campaigns on while the context runs; unset, no initiator is configured. */
        private String election;

        /** What this node proclaims as leader, for observers of Election.leader() (default: the host name). */
        private String value;

        /** How long to wait after a failed campaign, or a leader bean that failed to start (default 1s). */
        private Duration retryDelay = Duration.ofSeconds(1);

        public String getElection() {
            return election;
        }

        public void setElection(String election) {
            this.election = election;
        }

        public String getValue() {
            return value;
        }

        public void setValue(String value) {
            this.value = value;
        }

        public Duration getRetryDelay() {
            return retryDelay;
        }

        public void setRetryDelay(Duration retryDelay) {
            this.retryDelay = retryDelay;
        }
    }

    /** {@code holdfast.health.*}: the actuator health indicator. */
    public static class Health {
        /** The lock the health check looks up (read only: it is never taken). */
        private String probe = "holdfast/health";

        /** How long the health check waits for the service's answer before it reports DOWN. */
        private Duration timeout = Duration.ofSeconds(3);

        public Duration getTimeout() {
            return timeout;
        }

        public void setTimeout(Duration timeout) {
            this.timeout = timeout;
        }

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

    public Duration getConnectTimeout() {
        return connectTimeout;
    }

    public void setConnectTimeout(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    public Duration getLockDelay() {
        return lockDelay;
    }

    public void setLockDelay(Duration lockDelay) {
        this.lockDelay = lockDelay;
    }

    public Retry getRetry() {
        return retry;
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

    public Leader getLeader() {
        return leader;
    }
}
