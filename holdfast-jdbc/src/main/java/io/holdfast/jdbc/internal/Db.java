package io.holdfast.jdbc.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Causes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client's connections to the database: a small HikariCP pool, every statement bounded by the
 * client's request timeout, every {@link SQLException} turned into {@link UnavailableException}.
 *
 * <p>Bounds: borrowing a connection waits at most the request timeout (HikariCP's {@code
 * connectionTimeout}); a statement runs at most the request timeout rounded up to whole seconds
 * ({@code setQueryTimeout}); the PostgreSQL and MariaDB drivers also get a socket timeout a second
 * longer, so a server that stops answering cannot hold a thread forever. H2's TCP client has no
 * socket timeout: a frozen (not stopped) H2 server can hold a call until the operating system gives
 * up on the connection.
 */
final class Db implements AutoCloseable {
    /** A piece of work on a connection. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final JdbcUri uri;
    private final HikariDataSource pool;
    private final Properties driverProperties;
    private final int queryTimeoutSeconds;
    private volatile boolean abandoned;

    Db(JdbcUri uri, ClientOptions options) {
        this.uri = uri;
        long requestMillis = options.requestTimeout().toMillis();
        this.queryTimeoutSeconds = (int) Math.max(1, (requestMillis + 999) / 1000);
        this.driverProperties = driverProperties(uri.dialect(), requestMillis);
        HikariConfig config = new HikariConfig();
        config.setPoolName("holdfast-jdbc-" + POOLS.incrementAndGet());
        config.setJdbcUrl(uri.jdbcUrl());
        config.setDataSourceProperties(driverProperties);
        config.setMaximumPoolSize(uri.poolSize());
        config.setMinimumIdle(1);
        long connectionTimeout = Math.max(250, requestMillis);
        config.setConnectionTimeout(connectionTimeout);
        config.setValidationTimeout(Math.max(250, Math.min(5000, connectionTimeout / 2)));
        config.setInitializationFailTimeout(-1); // reachability is checked by the caller, as UnavailableException
        config.setAutoCommit(true);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        if (uri.dialect() == Dialect.MARIADB) {
            config.setConnectionInitSql("SET time_zone = '+00:00'"); // UNIX_TIMESTAMP(NOW(3)) without DST folds
        }
        try {
            this.pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new UnavailableException(
                    "jdbc: cannot set up a connection pool for " + uri.redacted() + ": " + e.getMessage(), e);
        }
    }

    /** Timeouts the drivers understand, in their own units; the URL's own settings take precedence. */
    static Properties driverProperties(Dialect dialect, long requestMillis) {
        Properties p = new Properties();
        long socketMillis = requestMillis + 1000;
        switch (dialect) {
            case POSTGRESQL -> {
                long connectSeconds = Math.max(1, (requestMillis + 999) / 1000);
                p.setProperty("connectTimeout", Long.toString(connectSeconds));
                p.setProperty("loginTimeout", Long.toString(connectSeconds));
                p.setProperty("socketTimeout", Long.toString((socketMillis + 999) / 1000));
                p.setProperty("tcpKeepAlive", "true");
                p.setProperty("ApplicationName", "holdfast");
            }
            case MARIADB -> {
                p.setProperty("connectTimeout", Long.toString(Math.max(250, requestMillis)));
                p.setProperty("socketTimeout", Long.toString(socketMillis));
                p.setProperty("tcpKeepAlive", "true");
            }
            case H2 -> {
                // no socket timeout in H2's client
            }
        }
        return p;
    }

    /**
     * Opens one connection outside the pool and closes it, with the drivers' connect and login
     * timeouts set to {@link ClientOptions#connectTimeout()}: a database nobody listens for, or
     * that refuses the login, fails here at once with the driver's reason, instead of after the
     * pool's borrow timeout (the request timeout, 10 s by default), which would keep retrying a
     * refused port until then. Not for H2: its in-memory databases end with their last connection.
     *
     * @throws UnavailableException naming the database (redacted) and the driver's reason
     */
    static void probe(JdbcUri uri, ClientOptions options) {
        if (uri.dialect() == Dialect.H2) {
            return;
        }
        Properties timeouts =
                driverProperties(uri.dialect(), options.connectTimeout().toMillis());
        try (Connection c = DriverManager.getConnection(uri.jdbcUrl(), timeouts)) {
            // reachable, and the login was accepted
        } catch (SQLException | RuntimeException e) {
            throw new UnavailableException(
                    "jdbc (" + uri.dialect().resourceName() + "): cannot reach " + uri.redacted() + ": " + withCause(e),
                    e);
        }
    }

    /** A connection outside the pool (PostgreSQL LISTEN, advisory locks), with the same timeouts. */
    static Connection dedicated(JdbcUri uri, ClientOptions options) throws SQLException {
        return DriverManager.getConnection(
                uri.jdbcUrl(),
                driverProperties(uri.dialect(), options.requestTimeout().toMillis()));
    }

    int queryTimeoutSeconds() {
        return queryTimeoutSeconds;
    }

    Properties driverProperties() {
        return driverProperties;
    }

    /** Runs {@code work} on a pooled connection in auto-commit mode. */
    <T> T call(String what, Work<T> work) {
        return run(what, false, work, true);
    }

    /** Runs {@code work} in one transaction, committed if it returns and rolled back if it throws. */
    <T> T inTransaction(String what, Work<T> work) {
        return run(what, true, work, true);
    }

    /**
     * Runs {@code work} in one transaction and never again, for work that is not safe to repeat (a
     * compare-and-set applied once fails as a conflict the second time): a connection that breaks
     * is reported as {@link UnavailableException}, and the caller finds out by reading.
     */
    <T> T inTransactionOnce(String what, Work<T> work) {
        return run(what, true, work, false);
    }

    /**
     * Runs the work; if the pooled connection turns out to be dead (the database restarted since it
     * was opened), evicts it and, if {@code againIfDead}, tries once more on a fresh one. The locks'
     * work is safe to repeat: acquires are idempotent per owner; a release or renewal repeated after
     * a reply lost with the connection answers "no longer held", which the client reports as a loss.
     */
    private <T> T run(String what, boolean transaction, Work<T> work, boolean againIfDead) {
        checkUsable(what);
        for (int attempt = 1; ; attempt++) {
            Connection c;
            try {
                c = pool.getConnection();
            } catch (SQLException | RuntimeException e) {
                throw unavailable(what, e);
            }
            try {
                T result = transaction ? inTransaction(c, work) : work.run(c);
                c.close();
                return result;
            } catch (SQLException | RuntimeException e) {
                boolean dead = e instanceof SQLException sql && brokenConnection(sql);
                if (dead) {
                    pool.evictConnection(c);
                } else {
                    closeQuietly(c, e);
                }
                if (!dead || !againIfDead || attempt > 1) {
                    throw unavailable(what, e);
                }
            }
        }
    }

    private static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c, e);
            throw e;
        } finally {
            restoreAutoCommit(c);
        }
    }

    /** Connection-level failures: SQLSTATE class 08, PostgreSQL 57P0x (server shutting down), and H2's "connection broken"/"database closed". */
    static boolean brokenConnection(SQLException e) {
        String state = e.getSQLState();
        int code = e.getErrorCode();
        return (state != null && (state.startsWith("08") || state.startsWith("57P")))
                || code == 90067
                || code == 90121
                || code == 90098;
    }

    private static void closeQuietly(Connection c, Exception cause) {
        try {
            c.close();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    /** A prepared statement with the request timeout. */
    PreparedStatement prepare(Connection c, String sql) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        ps.setQueryTimeout(queryTimeoutSeconds);
        return ps;
    }

    private static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private static void restoreAutoCommit(Connection c) {
        try {
            c.setAutoCommit(true);
        } catch (SQLException e) {
            // a broken connection: HikariCP evicts it
        }
    }

    private void checkUsable(String what) {
        if (abandoned) {
            throw new UnavailableException("jdbc: " + what + ": the client was abandoned (crashed)");
        }
    }

    private RuntimeException unavailable(String what, Exception e) {
        if (e instanceof io.holdfast.HoldfastException h) {
            return h; // a typed answer from inside the work (a semaphore of another size)
        }
        return new UnavailableException(
                "jdbc (" + uri.dialect().resourceName() + "): " + what + " failed: " + withCause(e), e);
    }

    /**
     * The exception's message and, if it does not say it already, the driver's reason underneath:
     * the pool's "request timed out after 10000ms" hides the driver's "Connection to host:5432
     * refused", which is what the reader needs.
     */
    static String withCause(Throwable e) {
        String message = String.valueOf(e.getMessage());
        Throwable driver = Causes.deepest(e.getCause(), c -> !(c instanceof SQLException));
        return Causes.append(message, driver != null ? driver : Causes.deepest(e.getCause()));
    }

    /** Stops every further statement at once; connections are dropped, nothing is released. */
    void abandon() {
        abandoned = true;
        pool.close();
    }

    @Override
    public void close() {
        pool.close();
    }
}
