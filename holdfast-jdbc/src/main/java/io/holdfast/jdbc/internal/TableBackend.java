package io.holdfast.jdbc.internal;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.StoreBackend;
import io.holdfast.store.StoreRegisters;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock-table mode: one row per holder in {@code <prefix>holders}, fencing tokens from the
 * sequence {@code <prefix>tokens}, expiries on the database's clock.
 *
 * <p>An acquire is one short transaction under the name's row lock ({@link TableGrants}, which says
 * why it stays atomic); renewals and releases touch only their own row. Its keys are {@link
 * TableKeys} (registers: {@link TableRegisters}), its operator calls {@link TableAdmin}.
 *
 * <p>Waiting polls {@link #tryAcquire} with backoff. On PostgreSQL a release also sends {@code
 * pg_notify}, which wakes waiters in every process early; within one JVM a release wakes local
 * waiters directly on every database.
 *
 * <p>Watches poll too, sleeping in the same {@link Wakeups} between reads ({@link #awaitWatched}).
 * On PostgreSQL every change a watch follows sends a notification at its commit (a grant, a
 * release, a revoke, a wait that began or ended, expired holders purged, a key written or deleted), so
 * a watch reads within a round trip of it. MariaDB and H2 have no notifications: only changes made
 * in this JVM wake a watch early, and the rest are seen at its next poll. A grant that lapses by
 * itself is seen at the next poll on every database.
 */
public final class TableBackend implements StoreBackend {
    private static final Logger log = LoggerFactory.getLogger(TableBackend.class);

    private final JdbcUri uri;
    private final ClientOptions options;
    private final Db db;
    private final Map<String, String> sql;
    private final String session = UUID.randomUUID().toString();
    private final Wakeups wakeups;
    private final Statements statements;
    private final TableKeys keys; // null where the tables have no keys (TableKeys.open)
    private final TableGrants grants;
    private PgNotifier notifier;
    private volatile boolean abandoned;

    /** Opens the pool and creates the schema if asked to. @throws UnavailableException if unreachable */
    public TableBackend(JdbcUri uri, ClientOptions options) {
        this.uri = uri;
        this.options = options;
        this.sql = uri.dialect().statements(uri.tablePrefix());
        this.wakeups = Wakeups.of(uri.storeKey());
        Db.probe(uri, options); // first contact within the connect timeout, with the driver's reason
        this.db = new Db(uri, options);
        this.statements = new Statements(db, sql);
        this.grants = new TableGrants(this, session, options.clientName());
        try {
            if (uri.createSchema()) {
                Schema.create(db, uri);
            }
            db.call("purging stale waiters", c -> statements.update(c, "purgeWaiters"));
            this.keys = TableKeys.open(this, options);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    @Override
    public String provider() {
        return "jdbc";
    }

    /** Registers and keys only where the tables have them ({@link TableKeys#open}). */
    @Override
    public Set<Capability> capabilities() {
        EnumSet<Capability> all = EnumSet.of(
                Capability.READ_WRITE,
                Capability.SEMAPHORE,
                Capability.LEASE_TIMEOUT,
                Capability.CHECK_FENCE,
                Capability.INSPECT,
                Capability.REVOKE);
        if (keys != null) {
            all.addAll(TableKeys.CAPABILITIES);
        }
        return all;
    }

    @Override
    public String sessionId() {
        return session;
    }

    // ---- acquiring

    @Override
    public Optional<Grant> tryAcquire(LockRequest r) {
        Optional<Grant> grant = db.inTransaction("acquiring " + r.describe(), c -> grants.grant(c, r));
        if (grant.isPresent()) {
            wakeups.changed(r.name());
        }
        return grant;
    }

    /**
     * Tries once; if the lock is busy, records this waiter (for {@link Admin#describe}) and polls
     * until the deadline, then removes the record, whatever the outcome.
     */
    @Override
    public Optional<Grant> acquire(LockRequest r, Deadline deadline) throws InterruptedException {
        Optional<Grant> now = tryAcquire(r);
        if (now.isPresent() || deadline.passed()) {
            return now;
        }
        long waitMillis = Math.max(1, deadline.remainingNanos() / 1_000_000);
        db.call("recording a waiter for " + r.describe(), c -> {
            statements.update(c, "deleteWaiter", r.name(), r.owner());
            try (PreparedStatement ps = db.prepare(c, sql.get("insertWaiter"))) {
                int i = 0;
                ps.setString(++i, r.name());
                ps.setString(++i, r.owner());
                ps.setString(++i, session);
                ps.setString(++i, options.clientName());
                ps.setString(++i, r.mode().name());
                ps.setInt(++i, r.permits());
                ps.setInt(++i, r.maxPermits());
                ps.setLong(++i, waitMillis);
                ps.executeUpdate();
            }
            announce(c, PgNotifier.changedPayload(r.name()));
            return null;
        });
        wakeups.changed(r.name());
        try {
            return StoreBackend.super.acquire(r, deadline);
        } finally {
            if (!abandoned) {
                try {
                    db.call("removing a waiter of " + r.describe(), c -> {
                        if (statements.update(c, "deleteWaiter", r.name(), r.owner()) > 0) {
                            announce(c, PgNotifier.changedPayload(r.name()));
                        }
                        return null;
                    });
                    wakeups.changed(r.name());
                } catch (UnavailableException e) {
                    log.debug(
                            "jdbc: could not remove the waiter record of {}; it lapses at its deadline",
                            r.describe(),
                            e);
                }
            }
        }
    }

    @Override
    public Duration maxPollInterval() {
        return uri.dialect() == Dialect.POSTGRESQL ? Duration.ofMillis(500) : Duration.ofMillis(100);
    }

    @Override
    public void awaitChange(String name, long maxNanos) throws InterruptedException {
        listen();
        wakeups.await(name, maxNanos);
    }

    // ---- holding

    @Override
    public boolean renew(Grant g) {
        LockRequest r = g.request();
        return db.call("renewing " + r.describe(), c -> {
                    try (PreparedStatement ps = db.prepare(c, sql.get("renew"))) {
                        ps.setLong(1, r.expiry().toMillis());
                        ps.setString(2, r.name());
                        ps.setString(3, r.owner());
                        ps.setLong(4, g.token());
                        return ps.executeUpdate();
                    }
                })
                == 1;
    }

    @Override
    public boolean release(Grant g) {
        LockRequest r = g.request();
        boolean had = db.call("releasing " + r.describe(), c -> {
            int live = statements.update(c, "releaseLive", r.name(), r.owner(), g.token());
            if (live == 0) {
                statements.update(c, "releaseAny", r.name(), r.owner(), g.token()); // its lapsed row, if still there
            }
            announce(c, r.name()); // a released name wakes its waiters and its watches
            return live == 1;
        });
        wakeups.signal(r.name());
        return had;
    }

    /**
     * Tells other processes (PostgreSQL only) of a change when {@code c} commits: a name alone says
     * that it may be free (its waiters and watches wake), the payloads of {@link PgNotifier} that
     * something else changed (watches wake).
     */
    void announce(Connection c, String payload) throws SQLException {
        if (uri.dialect() == Dialect.POSTGRESQL) {
            try (PreparedStatement ps = db.prepare(c, sql.get("notify"))) {
                ps.setString(1, uri.channel());
                ps.setString(2, payload);
                ps.execute();
            }
        }
    }

    /** The changes a watch follows; on PostgreSQL by NOTIFY, elsewhere only those of this JVM. */
    @Override
    public void awaitWatched(io.holdfast.WatchTarget target, long maxNanos) throws InterruptedException {
        PgNotifier listener = listen();
        long start = System.nanoTime();
        if (listener != null && !listener.awaitListening(maxNanos)) {
            return; // not listening yet: this was a pause of plain polling
        }
        wakeups.awaitWatched(target, Math.max(0, maxNanos - (System.nanoTime() - start)));
    }

    /** Starts this store's listener (PostgreSQL only) if it is not running yet; null if none. */
    private PgNotifier listen() {
        if (uri.dialect() != Dialect.POSTGRESQL) {
            return null;
        }
        synchronized (this) {
            if (notifier == null && !abandoned) {
                notifier = PgNotifier.use(uri, options, wakeups);
            }
            return notifier;
        }
    }

    /** Key (register) {@code key} was written or deleted by this client: wakes this JVM's watches of it. */
    void written(String key) {
        wakeups.written(key);
    }

    // ---- registers and keys

    @Override
    public StoreRegisters registers() {
        return keys == null ? null : new TableRegisters(this, keys);
    }

    @Override
    public io.holdfast.Keys keys() {
        return keys;
    }

    // ---- operators

    @Override
    public Admin admin() {
        return new TableAdmin(this);
    }

    Db db() {
        return db;
    }

    JdbcUri uri() {
        return uri;
    }

    void revoked(Connection c, String name) throws SQLException {
        announce(c, name);
        wakeups.signal(name);
    }

    Statements statements() {
        return statements;
    }

    // ---- ending

    @Override
    public void abandon() {
        abandoned = true;
        if (keys != null) {
            keys.sessions().stop();
        }
        stopNotifier();
        db.abandon();
    }

    /** Ends the session of keys (its attached keys go with it), then frees the pool. */
    @Override
    public void close() {
        if (keys != null && !abandoned) {
            keys.sessions().end();
        }
        stopNotifier();
        db.close();
    }

    private synchronized void stopNotifier() {
        if (notifier != null) {
            PgNotifier.release(notifier);
            notifier = null;
        }
    }

    @Override
    public String toString() {
        return "TableBackend[" + uri + ", session " + session + "]";
    }
}
