package io.holdfast.jdbc.internal;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The lock-table mode's grant: one acquire, in one database transaction, under the name's row lock.
 *
 * <p><b>For maintainers: how an acquire stays atomic.</b> A holder-per-row design (needed for
 * shared holders and semaphore permits) cannot decide "is there room?" and "take it" in one
 * single-row upsert, so every acquire is one short transaction at READ COMMITTED whose first
 * statement locks the name's row in {@code <prefix>names} ({@code SELECT ... FOR UPDATE}; the row
 * is created once, race-free, if missing). With that lock held, the transaction deletes the name's
 * expired holders (by the database clock), reads the remaining ones in a fresh statement (so it sees
 * every renewal committed before), and inserts its own row with the next token. Every insert of a
 * holder happens under the name's lock, so two acquirers of one name are strictly ordered, and the
 * token is drawn while the lock is held: tokens of one name grow in grant order. Renewals and
 * releases ({@link TableBackend}) touch only their own row: they can only extend or shorten a live
 * grant, never create one, so they need no name lock. A renewal ({@code ... AND expires_ms > now})
 * cannot revive a grant that has lapsed, and a deletion of an expired row waits for a concurrent
 * renewal and re-checks it.
 */
final class TableGrants {
    private final TableBackend backend;
    private final String session;
    private final String clientName;

    /** @param session the backend's session, which its holder rows name */
    TableGrants(TableBackend backend, String session, String clientName) {
        this.backend = backend;
        this.session = session;
        this.clientName = clientName;
    }

    private record Holder(String owner, LockMode mode, int permits, int maxPermits, long token) {}

    /**
     * Grants {@code r} in the transaction of {@code c} if it fits beside the name's live holders, or
     * answers the grant an earlier attempt of the same request won; empty when it does not fit.
     *
     * @throws InvalidArgumentException when the name is a semaphore of another size
     */
    Optional<Grant> grant(Connection c, LockRequest r) throws SQLException {
        lockName(c, r.name());
        if (backend.statements().update(c, "deleteExpired", r.name()) > 0) {
            backend.announce(c, PgNotifier.changedPayload(r.name())); // sent at commit, once per payload
        }
        List<Holder> holders = new ArrayList<>();
        try (PreparedStatement ps = backend.db().prepare(c, backend.statements().sql("holders"))) {
            ps.setString(1, r.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    holders.add(new Holder(
                            rs.getString(1),
                            LockMode.valueOf(rs.getString(2)),
                            rs.getInt(3),
                            rs.getInt(4),
                            rs.getLong(5)));
                }
            }
        }
        for (Holder h : holders) {
            if (h.owner.equals(r.owner())) {
                return Optional.of(new Grant(r, h.token)); // an earlier attempt of this request won
            }
        }
        if (!compatible(r, holders)) {
            return Optional.empty();
        }
        try (PreparedStatement ps = backend.db().prepare(c, backend.statements().sql("insertHolder"))) {
            int i = 0;
            ps.setString(++i, r.name());
            ps.setString(++i, r.owner());
            ps.setString(++i, session);
            ps.setString(++i, clientName);
            ps.setString(++i, r.mode().name());
            ps.setInt(++i, r.permits());
            ps.setInt(++i, r.maxPermits());
            ps.setLong(++i, r.expiry().toMillis());
            ps.setBoolean(++i, r.leaseTimeout());
            long token;
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("inserting the holder returned no token");
                }
                token = rs.getLong(1);
            }
            backend.announce(c, PgNotifier.changedPayload(r.name()));
            return Optional.of(new Grant(r, token));
        }
    }

    /** Whether {@code r} fits beside the live holders; a semaphore of another size is an error. */
    static boolean compatible(LockRequest r, List<Holder> holders) {
        int used = 0;
        for (Holder h : holders) {
            boolean semaphore = h.mode == LockMode.PERMITS;
            if (semaphore != (r.mode() == LockMode.PERMITS)) {
                return false; // a lock and a semaphore of one name wait for each other
            }
            if (semaphore && h.maxPermits != r.maxPermits()) {
                throw new InvalidArgumentException(
                        r.name() + " is in use as a semaphore of " + h.maxPermits + " permits, not " + r.maxPermits());
            }
            if (r.mode() == LockMode.EXCLUSIVE || h.mode == LockMode.EXCLUSIVE) {
                return false;
            }
            used += h.permits;
        }
        return r.mode() != LockMode.PERMITS || used + r.permits() <= r.maxPermits();
    }

    /** Locks the name's row for this transaction, creating it first if it is missing. */
    private void lockName(Connection c, String name) throws SQLException {
        if (selectForUpdate(c, name)) {
            return;
        }
        try {
            backend.statements().update(c, "ensureName", name);
        } catch (SQLException e) {
            if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
                throw e;
            }
            // another client created it at the same moment (H2's MERGE can say so): it exists now
        }
        if (!selectForUpdate(c, name)) {
            throw new SQLException("the row of " + name + " vanished while it was being locked");
        }
    }

    private boolean selectForUpdate(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = backend.db().prepare(c, backend.statements().sql("lockName"))) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
