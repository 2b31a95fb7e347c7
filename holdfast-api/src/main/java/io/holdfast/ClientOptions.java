package io.holdfast;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Settings of a {@link LockClient} that do not depend on the provider. Provider-specific settings
 * travel in the URI.
 *
 * <ul>
 *   <li>{@code clientName}: shown to operators beside every lock this client holds; defaults to
 *       {@code user@host:pid}.
 *   <li>{@code sessionTtl}: how long the service keeps the session without a heartbeat (1 s to 10
 *       min, default 10 s). Heartbeats go every quarter of it. A crashed client's locks come back
 *       after at most this long.
 *   <li>{@code lockDelay}: after the session <em>expires</em> (not when it releases), its locks
 *       stay ungrantable this long, for resources that cannot check tokens (0 to 60 s, default 0).
 *   <li>{@code requestTimeout}: how long one request may take before it is retried (100 ms to 5
 *       min, default 10 s).
 *   <li>{@code connectTimeout}: how long {@link LockClient#open} may spend reaching the service and
 *       opening the session before it fails with {@link UnavailableException} (100 ms to 10 min,
 *       default 5 s). Members that refuse the connection are tried again, with the retry policy's
 *       backoff, until it runs out; then the exception names them and the cause ("connection
 *       refused"). Every provider that connects to a service honours it ({@code holdfast://},
 *       {@code jdbc:} PostgreSQL and MariaDB, {@code zookeeper:}, {@code redis:}, {@code etcd:}),
 *       a service that accepts connections and never answers included; {@code mem:}, {@code
 *       file:} and embedded H2 have nothing to reach.
 *   <li>{@code retryPolicy}: see {@link RetryPolicy}. Once the client is open; at open, {@code
 *       connectTimeout} bounds it too.
 *   <li>{@code ticker}: the monotonic clock for client-side deadlines and renewals.
 *   <li>{@code scheduler}: where the client's timers run (retries, heartbeats, lease renewals,
 *       backstops of waits, the store providers' watchdogs), read with {@code ticker}'s time.
 *       By default each client has a daemon timer thread of its own, stopped by {@link
 *       LockClient#close()}; a scheduler given here is shared and is <em>not</em> shut down by the
 *       client (a closed client's timers that are still queued find it closed and do nothing).
 *       Together with {@code ticker} it lets tests move time instead of sleeping (the testkit's
 *       {@code ManualScheduler}). Its tasks must not run on a thread that the client's caller
 *       blocks.
 *   <li>{@code callbackExecutor}: where what the caller sees runs (completions of async calls,
 *       loss and session listeners, the recipes' callbacks). By default each client has a pool of
 *       its own, which keeps no thread while idle but starts one per callback that finds its threads
 *       busy; a JVM that keeps thousands of clients (a gateway's, a load generator's) should give
 *       them one executor here, since an event that reaches every client at once (a member's
 *       restart) would otherwise start a thread in each: 2,000 to 4,000 a JVM, beyond the machine's
 *       thread ids, in the 100,000-session benchmark (docs/benchmarks.md). An executor given here
 *       is shared and is <em>not</em> shut down by the client; a closed client stops handing it
 *       tasks. Callbacks that block hold its threads from the other clients' callbacks, so a
 *       bounded one suits callbacks that do not block.
 *   <li>{@code renewSessions}: whether the client outlives its sessions (ADR 0004; default true).
 *       When its session is lost (no heartbeat acknowledged for a whole TTL, or the service or an
 *       operator ended it) the leases and waits of that session are lost as always, and the client
 *       opens a new session, with a new id, from 100 ms after the loss, doubling up to 2 s with full
 *       jitter, on {@code scheduler}'s time, until one opens or the client is closed. Its {@link
 *       SessionListener}s are told both steps; a call that needs a session waits for the next one
 *       within its own timeout. False keeps the older behaviour: the client ends with its first
 *       session ({@link LockClient#isOpen()} false, every later call fails with {@link
 *       SessionExpiredException}), for callers who must stop with their session (the CLI's
 *       long-running commands, the ShedLock and Spring integrations). A {@code holdfast://} URI may
 *       say {@code ?renewSessions=false}. Providers that cannot renew ignore it and say so.
 * </ul>
 */
public final class ClientOptions {
    /** The shortest {@code sessionTtl}. */
    public static final Duration MIN_SESSION_TTL = Duration.ofSeconds(1);

    /** The longest {@code sessionTtl}. */
    public static final Duration MAX_SESSION_TTL = Duration.ofMinutes(10);

    /** The longest {@code lockDelay}. */
    public static final Duration MAX_LOCK_DELAY = Duration.ofSeconds(60);

    /** The longest {@code clientName}, in characters. */
    public static final int MAX_CLIENT_NAME = 256;

    private final String clientName;
    private final Duration sessionTtl;
    private final Duration lockDelay;
    private final Duration requestTimeout;
    private final Duration connectTimeout;
    private final RetryPolicy retryPolicy;
    private final Ticker ticker;
    private final ScheduledExecutorService scheduler;
    private final Executor callbackExecutor;
    private final boolean renewSessions;

    private ClientOptions(Builder b) {
        this.clientName = b.clientName;
        this.sessionTtl = b.sessionTtl;
        this.lockDelay = b.lockDelay;
        this.requestTimeout = b.requestTimeout;
        this.connectTimeout = b.connectTimeout;
        this.retryPolicy = b.retryPolicy;
        this.ticker = b.ticker;
        this.scheduler = b.scheduler;
        this.callbackExecutor = b.callbackExecutor;
        this.renewSessions = b.renewSessions;
    }

    /** The defaults described above. */
    public static ClientOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public String clientName() {
        return clientName;
    }

    public Duration sessionTtl() {
        return sessionTtl;
    }

    public Duration lockDelay() {
        return lockDelay;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    public Ticker ticker() {
        return ticker;
    }

    /** The scheduler given for the client's timers; empty: each client runs a timer thread of its own. */
    public Optional<ScheduledExecutorService> scheduler() {
        return Optional.ofNullable(scheduler);
    }

    /** The executor given for the client's callbacks; empty: each client runs a pool of its own. */
    public Optional<Executor> callbackExecutor() {
        return Optional.ofNullable(callbackExecutor);
    }

    /** Whether the client opens a new session when its session is lost (see the class description). */
    public boolean renewSessions() {
        return renewSessions;
    }

    /** A builder that starts from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.clientName = clientName;
        b.sessionTtl = sessionTtl;
        b.lockDelay = lockDelay;
        b.requestTimeout = requestTimeout;
        b.connectTimeout = connectTimeout;
        b.retryPolicy = retryPolicy;
        b.ticker = ticker;
        b.scheduler = scheduler;
        b.callbackExecutor = callbackExecutor;
        b.renewSessions = renewSessions;
        return b;
    }

    @Override
    public String toString() {
        return "ClientOptions[clientName=" + clientName + ", sessionTtl=" + sessionTtl + ", lockDelay=" + lockDelay
                + ", requestTimeout=" + requestTimeout + ", connectTimeout=" + connectTimeout + ", retryPolicy="
                + retryPolicy + ", renewSessions=" + renewSessions + "]";
    }

    /** Builds {@link ClientOptions}; every setter checks its bounds at once. */
    public static final class Builder {
        private String clientName = defaultClientName();
        private Duration sessionTtl = Duration.ofSeconds(10);
        private Duration lockDelay = Duration.ZERO;
        private Duration requestTimeout = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;
        private Executor callbackExecutor;
        private boolean renewSessions = true;

        private Builder() {}

        public Builder clientName(String clientName) {
            if (clientName == null || clientName.isBlank() || clientName.length() > MAX_CLIENT_NAME) {
                throw new InvalidArgumentException(
                        "clientName must be 1 to " + MAX_CLIENT_NAME + " characters, not blank");
            }
            this.clientName = clientName;
            return this;
        }

        public Builder sessionTtl(Duration ttl) {
            this.sessionTtl = within("sessionTtl", ttl, MIN_SESSION_TTL, MAX_SESSION_TTL);
            return this;
        }

        public Builder lockDelay(Duration delay) {
            this.lockDelay = within("lockDelay", delay, Duration.ZERO, MAX_LOCK_DELAY);
            return this;
        }

        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = within("requestTimeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(5));
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = within("connectTimeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(10));
            return this;
        }

        public Builder retryPolicy(RetryPolicy policy) {
            this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy");
            return this;
        }

        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Runs the client's timers on this scheduler instead of a thread of the client's own; see
         * the class description. The client never shuts it down.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            if (scheduler == null) {
                throw new InvalidArgumentException("scheduler must not be null (leave it unset for the client's own)");
            }
            this.scheduler = scheduler;
            return this;
        }

        /**
         * Runs the client's callbacks on this executor instead of a pool of the client's own; see
         * the class description. The client never shuts it down.
         */
        public Builder callbackExecutor(Executor executor) {
            if (executor == null) {
                throw new InvalidArgumentException(
                        "callbackExecutor must not be null (leave it unset for the client's own)");
            }
            this.callbackExecutor = executor;
            return this;
        }

        /**
         * Whether the client opens a new session when its session is lost (default true); false:
         * it ends with its session, as clients did before ADR 0004. See the class description.
         */
        public Builder renewSessions(boolean renew) {
            this.renewSessions = renew;
            return this;
        }

        public ClientOptions build() {
            return new ClientOptions(this);
        }

        private static Duration within(String what, Duration d, Duration min, Duration max) {
            if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw new InvalidArgumentException(
                        what + " must be between " + io.holdfast.internal.DurationText.format(min) + " and "
                                + io.holdfast.internal.DurationText.format(max) + ", not "
                                + io.holdfast.internal.DurationText.format(d));
            }
            return d;
        }

        private static String defaultClientName() {
            String user = System.getProperty("user.name", "?");
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException | SecurityException e) {
                host = "localhost";
            }
            return user + "@" + host + ":" + ProcessHandle.current().pid();
        }
    }
}
