// Ceiling 450 lines, one idea: one database transaction of keys (a transaction, or one put, delete or add): lock
// what it reads in one order, evaluate it in Java on the rows as locked, write back what changed.
package io.holdfast.jdbc.internal;

import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Keys;
import io.holdfast.QuotaExceededException;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.store.KeyRules;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One transaction of the lock-table mode's keys, on one connection, at READ COMMITTED.
 *
 * <p><b>For maintainers: why it is serializable.</b> Before it evaluates anything, the work locks
 * every row it will read or write, always in one order: the sessions it reads or attaches to
 * ({@code <prefix>sessions}, {@code FOR UPDATE}), then the holders its fence and holder compares
 * read ({@code <prefix>holders}), then its keys in byte order ({@code <prefix>registers}). A key
 * that is absent gets a placeholder row of version 0 first, so that it too has a row to lock; a
 * placeholder never outlives the transaction (every row that ends absent is deleted before the
 * commit) and every read skips it. With every row it reads locked until the commit, nothing it read
 * can change before its writes are visible: the transaction is one point in the order of writers.
 * Its compares and ops then run in Java on the rows as locked, and only what changed is written
 * back. Other writers keep the same order (a fenced register write locks its holder, then its key;
 * the sweep of an ended session locks the session, then its keys), so none can wait for another in
 * a cycle. A key whose time to live has passed, or whose owner's session has ended by the
 * database's clock, is absent here as in every read; that clock is read once every lock is held,
 * so a wait for a lock cannot make a lapsed key look present (except on H2, whose clock is the
 * transaction's start).
 *
 * <p>A refused op (a version conflict, a counter that is not one, a quota) throws; the caller's
 * transaction is rolled back whole.
 */
final class KeyWork {
    /** The byte order of UTF-8: code point order. */
    static final Comparator<String> BYTE_ORDER = KeyWork::compareCodePoints;

    private static final byte[] NOTHING = new byte[0];

    /** A key as this transaction sees it: {@code version} 0 is absent. */
    private static final class Row {
        long version;
        byte[] value;
        String owner;
        Long expiresMs;
        boolean changed;
        /** Whether the key was present when locked (a deletion of it is a change to tell). */
        boolean wasPresent;
    }

    private final TableBackend backend;
    private final Connection c;
    private final String session;
    /** The database's clock, read once every row is locked. */
    private long now;

    private final Map<String, Row> rows = new TreeMap<>(BYTE_ORDER);
    private final Map<String, Boolean> liveSessions = new HashMap<>();
    private final Map<String, Long> sessionExpires = new HashMap<>();
    private final boolean ownRow;
    private final List<String> changed = new ArrayList<>();
    private long owned = -1;

    private KeyWork(TableBackend backend, Connection c, boolean ownRow) throws SQLException {
        this.backend = backend;
        this.c = c;
        this.session = backend.sessionId();
        this.ownRow = ownRow;
    }

    /**
     * What a transaction did.
     *
     * @param result its answer
     * @param changed the keys it wrote or deleted, to wake this JVM's watches of once it committed
     */
    record Done(TxnResult result, List<String> changed) {}

    /**
     * Runs {@code txn} in the transaction of {@code c}; {@code single} names no branch in refusals.
     *
     * @param ownRow whether this client's session has its row in {@code <prefix>sessions} (it has
     *     attached a key): without one, the session is alive while the client is open
     */
    static Done run(TableBackend backend, Connection c, Txn txn, boolean single, boolean ownRow) throws SQLException {
        KeyWork work = new KeyWork(backend, c, ownRow);
        TxnResult result = work.run(txn, single);
        return new Done(result, work.changed);
    }

    private TxnResult run(Txn txn, boolean single) throws SQLException {
        lockSessions(txn);
        TreeSet<String> keys = new TreeSet<>(BYTE_ORDER);
        boolean holds = true;
        for (Txn.Compare compare : txn.compares()) {
            if (compare instanceof Txn.Compare.Fence f) {
                holds &= exists("lockFence", f.lock(), f.token(), session);
            } else if (compare instanceof Txn.Compare.Holder h) {
                holds &= exists("lockHolder", h.lock(), h.sessionId());
            } else if (!(compare instanceof Txn.Compare.SessionAlive)) {
                keys.add(KeyRules.keyOf(compare));
            }
        }
        for (Txn.Op op : txn.then()) {
            keys.add(op.key());
        }
        for (Txn.Op op : txn.otherwise()) {
            keys.add(op.key());
        }
        for (String key : keys) {
            lock(key);
        }
        now = backend.statements().queryLong(c, "clock"); // after every wait for a lock
        for (Map.Entry<String, Boolean> s : liveSessions.entrySet()) {
            Long expires = sessionExpires.get(s.getKey());
            s.setValue(s.getValue() || (expires != null && expires > now));
        }
        for (Row row : rows.values()) {
            resolve(row);
        }
        for (Txn.Compare compare : txn.compares()) {
            holds &= holds(compare);
        }
        TxnResult result = KeyRules.branch(txn, holds, !single, this::apply);
        flush();
        return result;
    }

    // ---- locking, in the one order

    /** Locks the sessions a SessionAlive compare reads, and this one if an op attaches to it. */
    private void lockSessions(Txn txn) throws SQLException {
        TreeSet<String> ids = new TreeSet<>();
        for (Txn.Compare compare : txn.compares()) {
            if (compare instanceof Txn.Compare.SessionAlive s) {
                ids.add(s.sessionId());
            }
        }
        if (attaches(txn.then()) || attaches(txn.otherwise())) {
            ids.add(session);
        }
        for (String id : ids) {
            sessionExpires.put(id, backend.statements().queryNullableLong(c, "lockSession", id));
        }
        for (String id : ids) {
            boolean own = id.equals(session);
            // this session without a row is alive while its client is open; another, while it has a grant
            liveSessions.put(id, own ? !ownRow : exists("lockSessionHolders", id));
        }
    }

    /** Whether a put of {@code ops} attaches its key to the session. */
    static boolean attaches(List<Txn.Op> ops) {
        for (Txn.Op op : ops) {
            if (op instanceof Txn.Op.Put p && p.options().attached()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Locks the key's row and reads it; if there is none, inserts a placeholder and locks that. The
     * row is locked before anything is inserted: on MariaDB an {@code INSERT IGNORE} of a row that
     * exists takes a shared lock on it, and two writers each holding one would deadlock when both
     * then lock it for update.
     */
    private void lock(String key) throws SQLException {
        Row row;
        while ((row = locked(key)) == null) {
            ensure(key); // also when the row was deleted by the transaction this one waited for
        }
        rows.put(key, row);
    }

    /** Decides, by {@link #now}, whether a locked row is a present key. */
    private void resolve(Row row) throws SQLException {
        if (row.version > 0 && !live(row)) {
            row.version = 0; // lapsed: absent, and deleted at the commit
            row.changed = true;
        }
        if (row.version == 0) {
            absent(row);
        }
        row.wasPresent = row.version > 0;
    }

    private Row locked(String key) throws SQLException {
        try (PreparedStatement ps = backend.statements().prepare(c, "lockKey", key);
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return null;
            }
            Row row = new Row();
            row.version = rs.getLong(1);
            row.value = rs.getBytes(2);
            row.owner = rs.getString(3);
            long expires = rs.getLong(4);
            row.expiresMs = rs.wasNull() ? null : expires;
            return row;
        }
    }

    private void ensure(String key) throws SQLException {
        try (PreparedStatement ps = backend.db().prepare(c, backend.statements().sql("ensureKey"))) {
            ps.setString(1, key);
            ps.setBytes(2, NOTHING);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
                throw e;
            }
            // H2: the row exists (the statement failed, not the transaction)
        }
    }

    private boolean live(Row row) throws SQLException {
        if (row.expiresMs != null && row.expiresMs <= now) {
            return false;
        }
        return row.owner == null || sessionLive(row.owner);
    }

    private boolean sessionLive(String id) throws SQLException {
        Boolean known = liveSessions.get(id);
        if (known == null) {
            Long expires = backend.statements().queryNullableLong(c, "sessionExpires", id);
            known = expires != null && expires > now;
            liveSessions.put(id, known);
        }
        return known;
    }

    private boolean exists(String statement, Object... params) throws SQLException {
        try (PreparedStatement ps = backend.statements().prepare(c, statement, params);
                ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    // ---- compares and ops, on the locked rows

    private boolean holds(Txn.Compare compare) {
        String key = KeyRules.keyOf(compare);
        if (key != null) {
            Row row = rows.get(key);
            return KeyRules.holds(compare, row.version, row.version > 0 ? row.value : null);
        } else if (compare instanceof Txn.Compare.SessionAlive s) {
            return liveSessions.get(s.sessionId());
        }
        return true; // fences and holders were read while they were locked
    }

    private TxnResult.OpResult apply(Txn.Op op) throws SQLException {
        Row row = rows.get(op.key());
        if (op instanceof Txn.Op.Put p) {
            expect(op.key(), row, p.options().expectedVersion());
            String owner = p.options().attached() ? session : null;
            if (owner != null && !owner.equals(row.version > 0 ? row.owner : null)) {
                attachOne(op.key());
            }
            Long expires =
                    p.options().ttl().isZero() ? null : now + p.options().ttl().toMillis();
            set(row, p.value(), owner, expires);
            return new TxnResult.OpResult(row.version, null, 0);
        } else if (op instanceof Txn.Op.Delete d) {
            expect(op.key(), row, d.expectedVersion());
            long had = row.version;
            if (had > 0) {
                detach(row);
                absent(row);
                row.changed = true;
            }
            return new TxnResult.OpResult(had, null, 0);
        } else if (op instanceof Txn.Op.Add a) {
            return add(op.key(), row, a.delta());
        }
        return row.version == 0
                ? new TxnResult.OpResult(0, null, 0)
                : new TxnResult.OpResult(row.version, row.value, 0);
    }

    private TxnResult.OpResult add(String key, Row row, long delta) {
        if (row.version > 0 && row.value.length != Long.BYTES) {
            throw new InvalidArgumentException(
                    key + " holds " + row.value.length + " bytes, not a counter (exactly 8 bytes)");
        }
        long before = row.version == 0 ? 0 : ByteBuffer.wrap(row.value).getLong();
        long sum;
        try {
            sum = Math.addExact(before, delta);
        } catch (ArithmeticException overflow) {
            throw new InvalidArgumentException(
                    key + " is " + before + "; adding " + delta + " would overflow a 64-bit counter");
        }
        set(row, ByteBuffer.allocate(Long.BYTES).putLong(sum).array(), row.owner, row.expiresMs);
        return new TxnResult.OpResult(row.version, null, sum);
    }

    private static void expect(String key, Row row, long expected) {
        if (expected != Keys.ANY_VERSION && row.version != expected) {
            throw new ConflictException(key + " is at version " + row.version + ", not " + expected, row.version);
        }
    }

    private void set(Row row, byte[] value, String owner, Long expiresMs) {
        if (row.version > 0 && row.owner != null && !row.owner.equals(owner)) {
            detach(row);
        }
        row.version++;
        row.value = value;
        row.owner = owner;
        row.expiresMs = expiresMs;
        row.changed = true;
    }

    /** One more key attached to this session, within {@link Keys#MAX_KEYS_PER_SESSION}. */
    private void attachOne(String key) throws SQLException {
        if (!liveSessions.getOrDefault(session, false)) {
            throw new io.holdfast.SessionExpiredException("session " + session
                    + " has ended in the database (not renewed within its TTL): no key can be attached to it;"
                    + " open a new client");
        }
        if (owned < 0) {
            owned = backend.statements().queryLong(c, "ownedKeys", session);
        }
        if (owned >= Keys.MAX_KEYS_PER_SESSION) {
            throw new QuotaExceededException(
                    "session " + session + " owns " + owned + " keys; the limit keys-per-session is "
                            + Keys.MAX_KEYS_PER_SESSION + " (" + key + " not written)");
        }
        owned++;
    }

    private void detach(Row row) {
        if (session.equals(row.owner) && owned >= 0) {
            owned--;
        }
    }

    private static void absent(Row row) {
        row.version = 0;
        row.value = NOTHING;
        row.owner = null;
        row.expiresMs = null;
    }

    // ---- writing back

    /** Writes the changed rows, deletes every row that ends absent, and tells watches. */
    private void flush() throws SQLException {
        for (Map.Entry<String, Row> e : rows.entrySet()) {
            String key = e.getKey();
            Row row = e.getValue();
            if (row.version == 0) {
                backend.statements().update(c, "deleteKey", key);
            } else if (row.changed) {
                try (PreparedStatement ps =
                        backend.db().prepare(c, backend.statements().sql("writeKey"))) {
                    ps.setLong(1, row.version);
                    ps.setBytes(2, row.value);
                    ps.setString(3, row.owner);
                    if (row.expiresMs == null) {
                        ps.setNull(4, Types.BIGINT);
                    } else {
                        ps.setLong(4, row.expiresMs);
                    }
                    ps.setString(5, key);
                    ps.executeUpdate();
                }
            }
            if (row.changed || (row.wasPresent && row.version == 0)) {
                backend.announce(c, PgNotifier.writtenPayload(key));
                changed.add(key);
            }
        }
    }

    private static int compareCodePoints(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
