package io.holdfast.jdbc.internal;

import io.holdfast.ConflictException;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.Versioned;
import io.holdfast.store.Grant;
import io.holdfast.store.StoreRegisters;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The lock-table mode's registers: the keys of {@link TableKeys}, one row per key in {@code
 * <prefix>registers}, so a register and a key of one name are one record (a read of either sees
 * the same version and value).
 *
 * <p><b>How a write stays atomic.</b> Each write is one transaction at READ COMMITTED. A fenced
 * write first locks its grant's row in {@code <prefix>holders} ({@code SELECT ... FOR UPDATE},
 * live by the database's clock), so a revocation, a release or another acquirer's purge of the
 * expired grant waits for the write to commit and then happens after it. The key is then written as
 * {@link KeyWork} writes a put with an expected version (its row locked, a placeholder first if it
 * is absent): a version other than the expected one is a conflict, and nothing of the transaction
 * stays. A write makes the key live until it is deleted, whatever lifetime it had, and tells its
 * watches (on PostgreSQL with a NOTIFY sent at commit). Locks are taken in one order (the holder's
 * row, then the key's), so two fenced writes cannot deadlock each other.
 *
 * <p><b>What it does not do:</b> retry after an unknown outcome (a write the database rolled back
 * as a deadlock's victim runs again: nothing of it stayed). A connection lost during the commit leaves the outcome
 * unknown, so it ends in {@link io.holdfast.UnavailableException}; the caller reads the register.
 */
final class TableRegisters implements StoreRegisters {
    private final TableBackend backend;
    private final TableKeys keys;

    TableRegisters(TableBackend backend, TableKeys keys) {
        this.backend = backend;
        this.keys = keys;
    }

    @Override
    public Optional<Versioned> read(String key) {
        return keys.get(key).map(e -> new Versioned(key, e.version(), e.value()));
    }

    @Override
    public Versioned write(String key, long expectedVersion, byte[] value, Grant fence) {
        KeyWork.Done done = TableKeys.transact(backend, "writing register " + key, c -> {
            if (fence != null && !holds(c, fence)) {
                throw new ConflictException(
                        "fencing token " + fence.token() + " is no longer a current grant of "
                                + fence.request().name(),
                        version(c, key));
            }
            Txn put = Txn.when().then(Txn.put(key, value, PutOptions.ifVersion(expectedVersion)));
            return KeyWork.run(backend, c, put, true, true);
        });
        return new Versioned(key, done.result().results().get(0).version(), value);
    }

    /** Locks the grant's row if it is still live; its revocation or purge waits for this transaction. */
    private boolean holds(Connection c, Grant fence) throws SQLException {
        try (PreparedStatement ps = backend.db().prepare(c, backend.statements().sql("holdsFence"))) {
            ps.setString(1, fence.request().name());
            ps.setString(2, fence.request().owner());
            ps.setLong(3, fence.token());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private long version(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = backend.statements().prepare(c, "readKey", key);
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }
}
