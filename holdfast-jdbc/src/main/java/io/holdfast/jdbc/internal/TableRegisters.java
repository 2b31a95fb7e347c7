package io.holdfast.jdbc.internal;

import io.holdfast.ConflictException;
import io.holdfast.Versioned;
import io.holdfast.store.Grant;
import io.holdfast.store.StoreRegisters;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The lock-table mode's registers: one row per key in {@code <prefix>registers}.
 *
 * <p><b>How a write stays atomic.</b> Each write is one transaction at READ COMMITTED. A fenced
 * write first locks its grant's row in {@code <prefix>holders} ({@code SELECT ... FOR UPDATE},
 * live by the database's clock), so a revocation, a release or another acquirer's purge of the
 * expired grant waits for the write to commit and then happens after it. The version is then
 * compared by the write itself: the first write inserts version 1 if no row exists (a duplicate is
 * ignored, not an error), later ones update {@code WHERE version = expected}. Zero rows written is
 * a conflict, and nothing of the transaction stays. A write tells the register's watches (on
 * PostgreSQL with a NOTIFY sent at commit). Locks are taken in one order (the holder's
 * row, then the register's), so two fenced writes cannot deadlock each other.
 *
 * <p><b>What it does not do:</b> retry. A connection lost during the commit leaves the outcome
 * unknown, so it ends in {@link io.holdfast.UnavailableException}; the caller reads the register.
 */
final class TableRegisters implements StoreRegisters {
    private final TableBackend backend;

    TableRegisters(TableBackend backend) {
        this.backend = backend;
    }

    @Override
    public Optional<Versioned> read(String key) {
        return backend.db().call("reading register " + key, c -> read(c, key));
    }

    private Optional<Versioned> read(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = backend.db().prepare(c, backend.sql("readRegister"))) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Versioned(key, rs.getLong(1), rs.getBytes(2))) : Optional.empty();
            }
        }
    }

    @Override
    public Versioned write(String key, long expectedVersion, byte[] value, Grant fence) {
        Versioned written = backend.db().inTransactionOnce("writing register " + key, c -> {
            if (fence != null && !holds(c, fence)) {
                throw new ConflictException(
                        "fencing token " + fence.token() + " is no longer a current grant of "
                                + fence.request().name(),
                        version(c, key));
            }
            if (!(expectedVersion == 0 ? insert(c, key, value) : update(c, key, expectedVersion, value))) {
                long found = version(c, key);
                throw new ConflictException(key + " is at version " + found + ", not " + expectedVersion, found);
            }
            backend.announce(c, PgNotifier.writtenPayload(key));
            return new Versioned(key, expectedVersion + 1, value);
        });
        backend.written(key);
        return written;
    }

    /** Locks the grant's row if it is still live; its revocation or purge waits for this transaction. */
    private boolean holds(Connection c, Grant fence) throws SQLException {
        try (PreparedStatement ps = backend.db().prepare(c, backend.sql("holdsFence"))) {
            ps.setString(1, fence.request().name());
            ps.setString(2, fence.request().owner());
            ps.setLong(3, fence.token());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private boolean insert(Connection c, String key, byte[] value) throws SQLException {
        try (PreparedStatement ps = backend.db().prepare(c, backend.sql("insertRegister"))) {
            ps.setString(1, key);
            ps.setBytes(2, value);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            if (e.getSQLState() != null && e.getSQLState().startsWith("23")) {
                return false; // H2: another writer's row came first (its statement failed, the transaction did not)
            }
            throw e;
        }
    }

    private boolean update(Connection c, String key, long expectedVersion, byte[] value) throws SQLException {
        try (PreparedStatement ps = backend.db().prepare(c, backend.sql("updateRegister"))) {
            ps.setBytes(1, value);
            ps.setString(2, key);
            ps.setLong(3, expectedVersion);
            return ps.executeUpdate() == 1;
        }
    }

    private long version(Connection c, String key) throws SQLException {
        return read(c, key).map(Versioned::version).orElse(0L);
    }
}
