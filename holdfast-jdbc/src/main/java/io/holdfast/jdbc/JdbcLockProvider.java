package io.holdfast.jdbc;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.jdbc.internal.AdvisoryBackend;
import io.holdfast.jdbc.internal.JdbcUri;
import io.holdfast.jdbc.internal.TableBackend;
import io.holdfast.spi.LockProvider;
import io.holdfast.store.StoreBackend;
import io.holdfast.store.StoreLockClient;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The Holdfast API over a relational database, for {@code jdbc:postgresql:…}, {@code
 * jdbc:mariadb:…} / {@code jdbc:mysql:…} (both through the MariaDB driver) and {@code jdbc:h2:…}
 * URIs. Found by {@link java.util.ServiceLoader}; users call {@link LockClient#open(String,
 * ClientOptions)}.
 *
 * <pre>{@code
 * try (LockClient client = LockClient.open("jdbc:postgresql://db:5432/app?user=app&password=…")) {
 *     try (Lease lease = client.lock("orders/42").acquire(Duration.ofSeconds(5))) {
 *         orders.write(order, lease.fencingToken());
 *     }
 * }
 * }</pre>
 *
 * <p><b>Two modes.</b> The default, {@code holdfast.mode=table}, keeps one row per holder in a lock
 * table (created on first use): leases that lapse by the <em>database's</em> clock unless the
 * client's watchdog renews them, fencing tokens from one sequence (growing across all names),
 * read-write locks, semaphores, lease timeouts, listing, revoking and token checks. {@code
 * holdfast.mode=advisory} (PostgreSQL only) uses session-level advisory locks on one connection per
 * client and needs no table; it gives exclusive and shared locks only, and a lock lives exactly as
 * long as that connection.
 *
 * <p><b>Options</b>, written among the URL's own parameters and removed before the URL reaches the
 * driver: {@code holdfast.mode} ({@code table} or {@code advisory}), {@code holdfast.tablePrefix}
 * (default {@code holdfast_}; letters, digits, '_'), {@code holdfast.poolSize} (1 to 64, default 4),
 * {@code holdfast.createSchema} ({@code true} or {@code false}, default {@code true}).
 *
 * <p><b>What it does not guarantee.</b> No fair queue (waiters poll with backoff; PostgreSQL
 * notifications only wake them earlier), no deadlock detection, and it survives the failure of a
 * database node only as far as the database does: a lock granted on a primary whose replication
 * is asynchronous can be lost in a failover, and then granted again with a token the sequence may
 * have handed out before.
 *
 * <p><b>A failure story.</b> The database restarts while a client holds a lock. The client's
 * renewals fail with {@code UnavailableException} and are retried; if the database is back within
 * the lease's expiry, the row is still there (it is durable) and the renewal succeeds. If not, the
 * client reports the lease lost, the row has lapsed by the database's clock, and the next acquirer
 * gets the lock with a larger token.
 */
public final class JdbcLockProvider implements LockProvider {
    @Override
    public String name() {
        return "jdbc";
    }

    @Override
    public boolean accepts(String uri) {
        return uri != null
                && (uri.startsWith("jdbc:postgresql:")
                        || uri.startsWith("jdbc:mariadb:")
                        || uri.startsWith("jdbc:mysql:")
                        || uri.startsWith("jdbc:h2:"));
    }

    @Override
    public LockClient open(String uri, ClientOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("options must not be null");
        }
        JdbcUri parsed = JdbcUri.parse(uri);
        checkDriverAccepts(parsed);
        StoreBackend backend = parsed.mode() == JdbcUri.Mode.ADVISORY
                ? new AdvisoryBackend(parsed, options)
                : new TableBackend(parsed, options);
        return new StoreLockClient(backend, options);
    }

    private static void checkDriverAccepts(JdbcUri uri) {
        try {
            if (!DriverManager.getDriver(uri.jdbcUrl()).acceptsURL(uri.jdbcUrl())) {
                throw new InvalidArgumentException("the JDBC driver refuses the URL " + uri.redacted());
            }
        } catch (SQLException e) {
            throw new InvalidArgumentException("malformed JDBC URL " + uri.redacted() + ": " + e.getMessage(), e);
        }
    }
}
