package io.holdfast.jdbc.internal;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockMode;
import io.holdfast.UnavailableException;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import io.holdfast.store.StoreBackend;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The PostgreSQL advisory-lock mode: session-level {@code pg_try_advisory_lock} (exclusive) and
 * {@code pg_try_advisory_lock_shared} (shared) on one dedicated connection per client. No table is
 * created or needed.
 *
 * <p><b>What it gives.</b> Mutual exclusion between sessions, by PostgreSQL's lock manager. A
 * crashed process's locks come back as soon as PostgreSQL sees its connection close. Fencing
 * tokens are transaction ids ({@code txid_current()}, the 64-bit, epoch-extended id that {@code
 * pg_current_xact_id()} also returns), drawn in the statement that took the lock, after it was
 * taken: PostgreSQL hands out transaction ids in increasing order, for all sessions, across
 * restarts, so tokens grow in grant order across every name.
 *
 * <p><b>What it cannot do.</b> No lease timeout (a lock lives as long as the connection, however
 * stalled the holder), no semaphores, no listing or revoking (the lock manager knows 64-bit keys,
 * not names), no fencing check by token. Advisory locks are reentrant within a PostgreSQL session,
 * and all leases of one client share one session, so this class keeps its own table of who holds
 * what: a second exclusive lease of the same name in the same client waits like any other.
 *
 * <p><b>A failure story.</b> The connection drops (network, server restart). PostgreSQL releases
 * every lock of the session at once, so this client must stop believing it holds them: the next
 * statement on the connection fails, or the health check (every third of the session TTL) notices,
 * and every lease of the client is reported lost. A new connection is opened for later acquires.
 * Behind a pooler in transaction mode (PgBouncer) the session changes under the client; the
 * backend pid is checked on every statement, and a change is treated like a dropped connection.
 */
public final class AdvisoryBackend implements StoreBackend {
    private static final String TRY_EXCLUSIVE =
            "SELECT CASE WHEN pg_try_advisory_lock(?) THEN txid_current() END, pg_backend_pid()";
    private static final String TRY_SHARED =
            "SELECT CASE WHEN pg_try_advisory_lock_shared(?) THEN txid_current() END, pg_backend_pid()";
    private static final String UNLOCK_EXCLUSIVE = "SELECT pg_advisory_unlock(?), pg_backend_pid()";
    private static final String UNLOCK_SHARED = "SELECT pg_advisory_unlock_shared(?), pg_backend_pid()";
    private static final String NOTIFY = "SELECT pg_notify(?, ?)";
    private static final String PING = "SELECT pg_backend_pid()";

    /** The leases of one name held through this client's session. */
    private static final class Local {
        final LockMode mode;
        final long key;
        final Map<String, Long> tokensByOwner = new HashMap<>();

        Local(LockMode mode, long key) {
            this.mode = mode;
            this.key = key;
        }
    }

    private final JdbcUri uri;
    private final ClientOptions options;
    private final String session = UUID.randomUUID().toString();
    private final Wakeups wakeups;
    private final Map<String, Local> held = new HashMap<>(); // guarded by this
    private final ScheduledExecutorService health;
    private Connection connection; // guarded by this
    private int pid; // guarded by this
    private PgNotifier notifier; // guarded by this
    private volatile LossSink sink;
    private volatile boolean abandoned;

    /** Opens the dedicated connection. @throws UnavailableException if PostgreSQL cannot be reached */
    public AdvisoryBackend(JdbcUri uri, ClientOptions options) {
        this.uri = uri;
        this.options = options;
        this.wakeups = Wakeups.of(uri.storeKey());
        synchronized (this) {
            connection("connecting");
        }
        this.health = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-jdbc-advisory-health"));
        long every = Math.max(500, options.sessionTtl().toMillis() / 3);
        health.scheduleWithFixedDelay(this::checkHealth, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public String provider() {
        return "jdbc";
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.READ_WRITE);
    }

    @Override
    public String sessionId() {
        return session;
    }

    @Override
    public void start(LossSink sink) {
        this.sink = sink;
    }

    @Override
    public synchronized Optional<Grant> tryAcquire(LockRequest r) {
        Local local = held.get(r.name());
        if (local != null) {
            Long token = local.tokensByOwner.get(r.owner());
            if (token != null) {
                return Optional.of(new Grant(r, token));
            }
            if (local.mode == LockMode.EXCLUSIVE || r.mode() == LockMode.EXCLUSIVE) {
                return Optional.empty(); // PostgreSQL would grant it again to this session: we may not
            }
        }
        long key = key(r.name());
        Connection c = connection("acquiring " + r.describe());
        try (PreparedStatement ps = c.prepareStatement(r.mode() == LockMode.SHARED ? TRY_SHARED : TRY_EXCLUSIVE)) {
            ps.setQueryTimeout(queryTimeoutSeconds());
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long token = rs.getLong(1);
                boolean granted = !rs.wasNull();
                checkPid(rs.getInt(2));
                if (!granted) {
                    return Optional.empty();
                }
                held.computeIfAbsent(r.name(), n -> new Local(r.mode(), key))
                        .tokensByOwner
                        .put(r.owner(), token);
                return Optional.of(new Grant(r, token));
            }
        } catch (SQLException e) {
            throw broken("acquiring " + r.describe(), e);
        }
    }

    @Override
    public Duration maxPollInterval() {
        return Duration.ofMillis(500);
    }

    @Override
    public void awaitChange(String name, long maxNanos) throws InterruptedException {
        synchronized (this) {
            if (notifier == null && !abandoned) {
                notifier = PgNotifier.use(uri, options, wakeups);
            }
        }
        wakeups.await(name, maxNanos);
    }

    /** The connection keeps the locks; the health check stands in for renewals. */
    @Override
    public Duration renewEvery(Grant grant) {
        return null;
    }

    @Override
    public synchronized boolean renew(Grant g) {
        Local local = held.get(g.request().name());
        return local != null && local.tokensByOwner.containsKey(g.request().owner());
    }

    @Override
    public boolean release(Grant g) {
        LockRequest r = g.request();
        boolean had;
        synchronized (this) {
            Local local = held.get(r.name());
            Long token = local == null ? null : local.tokensByOwner.get(r.owner());
            if (token == null || token != g.token()) {
                return false;
            }
            Connection c = connection("releasing " + r.describe());
            try {
                try (PreparedStatement ps =
                        c.prepareStatement(local.mode == LockMode.SHARED ? UNLOCK_SHARED : UNLOCK_EXCLUSIVE)) {
                    ps.setQueryTimeout(queryTimeoutSeconds());
                    ps.setLong(1, local.key);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        had = rs.getBoolean(1);
                        checkPid(rs.getInt(2));
                    }
                }
                local.tokensByOwner.remove(r.owner());
                if (local.tokensByOwner.isEmpty()) {
                    held.remove(r.name());
                }
                try (PreparedStatement ps = c.prepareStatement(NOTIFY)) {
                    ps.setQueryTimeout(queryTimeoutSeconds());
                    ps.setString(1, uri.channel());
                    ps.setString(2, r.name());
                    ps.execute();
                }
            } catch (SQLException e) {
                throw broken("releasing " + r.describe(), e);
            }
        }
        wakeups.signal(r.name());
        return had;
    }

    // ---- the connection

    /** The open connection, opened if needed. Callers hold this object's monitor. */
    private Connection connection(String what) {
        if (abandoned) {
            throw new UnavailableException("jdbc: " + what + ": the client was abandoned (crashed)");
        }
        if (connection == null) {
            try {
                Connection c = Db.dedicated(uri, options);
                try (PreparedStatement ps = c.prepareStatement(PING);
                        ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                connection = c;
            } catch (SQLException e) {
                throw new UnavailableException(
                        "jdbc (advisory): " + what + ": cannot connect to " + uri.redacted() + ": " + e.getMessage(),
                        e);
            }
        }
        return connection;
    }

    private void checkPid(int now) throws SQLException {
        if (now != pid) {
            throw new SQLException("the PostgreSQL session changed under the connection (backend pid " + pid
                    + " became "
                    + now + "): a pooler in transaction mode (PgBouncer) sits between the client and PostgreSQL, "
                    + "and session advisory locks cannot work through it; connect directly or use holdfast.mode=table");
        }
    }

    /**
     * The connection failed: PostgreSQL has released, or will release, every lock of the session.
     * Forgets them, reports them lost, and drops the connection. Callers hold the monitor.
     */
    private UnavailableException broken(String what, SQLException e) {
        closeConnection();
        if (!held.isEmpty()) {
            held.clear();
            LossSink s = sink;
            if (s != null) {
                s.allLost("the connection to PostgreSQL failed, which releases its advisory locks (" + e.getMessage()
                        + ")");
            }
        }
        return new UnavailableException("jdbc (advisory): " + what + " failed: " + e.getMessage(), e);
    }

    private void checkHealth() {
        synchronized (this) {
            if (connection == null || held.isEmpty() || abandoned) {
                return;
            }
            try (PreparedStatement ps = connection.prepareStatement(PING)) {
                ps.setQueryTimeout(queryTimeoutSeconds());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    checkPid(rs.getInt(1));
                }
            } catch (SQLException e) {
                broken("checking the connection", e);
            }
        }
    }

    private int queryTimeoutSeconds() {
        return (int) Math.max(1, (options.requestTimeout().toMillis() + 999) / 1000);
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // it is broken already
            }
            connection = null;
        }
    }

    /** The advisory-lock key of a name: 64 bits of SHA-256 over the prefix and the name. */
    long key(String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest(("holdfast:" + uri.tablePrefix() + ":" + name).getBytes(StandardCharsets.UTF_8));
            long k = 0;
            for (int i = 0; i < 8; i++) {
                k = (k << 8) | (d[i] & 0xff);
            }
            return k;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    // ---- ending

    /** Drops the connection without unlocking: PostgreSQL releases the locks, as when a process dies. */
    @Override
    public void abandon() {
        abandoned = true;
        health.shutdownNow();
        Connection c;
        synchronized (this) {
            c = connection;
            connection = null;
            held.clear();
            stopNotifier();
        }
        if (c != null) {
            try {
                c.abort(Runnable::run);
            } catch (SQLException e) {
                // gone either way
            }
        }
    }

    @Override
    public void close() {
        health.shutdownNow();
        synchronized (this) {
            closeConnection();
            held.clear();
            stopNotifier();
        }
    }

    private void stopNotifier() {
        if (notifier != null) {
            PgNotifier.release(notifier);
            notifier = null;
        }
    }

    @Override
    public String toString() {
        return "AdvisoryBackend[" + uri + ", session " + session + "]";
    }
}
