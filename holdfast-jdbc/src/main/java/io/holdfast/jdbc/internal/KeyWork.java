package io.holdfast.jdbc.internal;

import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.SessionExpiredException;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.store.KeyPlay;
import io.holdfast.store.KeyRules;
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
import java.util.LinkedHashMap;
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
 * Its compares and ops are then played on the rows as locked, by the rules every store provider
 * plays ({@link KeyPlay}: versions, a counter's arithmetic, the limit of keys per session, the
 * names of refusals), and only what changed is written back. Other writers keep the same order (a
 * fenced register write locks its holder, then its key; the sweep of an ended session locks the
 * session, then its keys), so none can wait for another in a cycle. A key whose time to live has
 * passed, or whose owner's session has ended by the database's clock, is absent here as in every
 * read; that clock is read once every lock is held, so a wait for a lock cannot make a lapsed key
 * look present (except on H2, whose clock is the transaction's start).
 *
 * <p>The count of keys attached to this session ({@code ownedKeys}) is read under those locks, and
 * only when an op attaches a key that was not attached to it: a key of this session locked here is
 * counted as the database has it, and the play adds what the ops before it changed.
 *
 * <p>A refused op (a version conflict, a counter that is not one, a quota, a key attached to a
 * session that has ended) throws; the caller's transaction is rolled back whole.
 */
final class KeyWork {
    /** The byte order of UTF-8: code point order. */
    static final Comparator<String> BYTE_ORDER = KeyWork::compareCodePoints;

    private static final byte[] NOTHING = new byte[0];

    /** What this session's keys are attached to, as the play counts them ({@link KeyPlay.Stored#attachment()}). */
    private static final long OWN = 1;

    /** A key's row as this transaction locked it, and as it ends: {@code version} 0 is absent. */
    private static final class Row {
        long version;
        byte[] value;
        String owner;
        Long expiresMs;
        boolean changed;
        /** Whether the key was present when locked (a deletion of it is a change to tell). */
        boolean wasPresent;
    }

    /**
     * A key as the play reads and writes it.
     *
     * @param attachment its owner numbered for the play: {@link #OWN} for this session, 0 for none
     */
    private record Key(String key, long version, byte[] value, String owner, Long expiresMs, long attachment)
            implements KeyPlay.Stored {}

    /** The failure of the count of attached keys, which the play reads through a {@code LongSupplier}. */
    private static final class CountFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CountFailed(SQLException cause) {
            super(cause);
        }
    }

    private final TableBackend backend;
    private final Connection c;
    private final String session;
    /** The database's clock, read once every row is locked. */
    private long now;

    private final Map<String, Row> rows = new TreeMap<>(BYTE_ORDER);
    private final Map<String, Boolean> liveSessions = new HashMap<>();
    private final Map<String, Long> sessionExpires = new HashMap<>();
    /** What each fence and holder compare read while it locked their rows. */
    private final Map<Txn.Compare, Boolean> locked = new HashMap<>();
    /** Each owner's number in the play ({@link Key#attachment()}). */
    private final Map<String, Long> owners = new HashMap<>();

    private final boolean ownRow;
    private final List<String> changed = new ArrayList<>();

    private KeyWork(TableBackend backend, Connection c, boolean ownRow) {
        this.backend = backend;
        this.c = c;
        this.session = backend.sessionId();
        this.ownRow = ownRow;
        owners.put(session, OWN);
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
        for (Txn.Compare compare : txn.compares()) {
            if (compare instanceof Txn.Compare.Fence f) {
                locked.put(compare, exists("lockFence", f.lock(), f.token(), session));
            } else if (compare instanceof Txn.Compare.Holder h) {
                locked.put(compare, exists("lockHolder", h.lock(), h.sessionId()));
            } else if (!(compare instanceof Txn.Compare.SessionAlive)) {
                keys.add(KeyRules.keyOf(compare));
            }
        }
        keys.addAll(KeyRules.keysNamed(txn));
        for (String key : keys) {
            lock(key);
        }
        now = backend.statements().queryLong(c, "clock"); // after every wait for a lock
        for (Map.Entry<String, Boolean> s : liveSessions.entrySet()) {
            Long expires = sessionExpires.get(s.getKey());
            s.setValue(s.getValue() || (expires != null && expires > now));
        }
        Map<String, Key> read = new LinkedHashMap<>();
        for (Map.Entry<String, Row> e : rows.entrySet()) {
            resolve(e.getValue());
            read.put(e.getKey(), key(e.getKey(), e.getValue()));
        }
        KeyPlay<Key> play = new KeyPlay<>(
                read, new Writes(), new KeyPlay.Attached(OWN, this::owned, session, Keys.MAX_KEYS_PER_SESSION));
        TxnResult result;
        try {
            result = play.run(txn, this::holds, !single);
        } catch (CountFailed e) {
            throw (SQLException) e.getCause();
        }
        play.written().forEach(this::written);
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

    // ---- the play, on the locked rows

    /** A locked row as the play reads it; null when absent. */
    private Key key(String key, Row row) {
        return row.version == 0
                ? null
                : new Key(key, row.version, row.value, row.owner, row.expiresMs, owner(row.owner));
    }

    /** The owner's number in the play: 0 for none. */
    private long owner(String owner) {
        return owner == null ? 0 : owners.computeIfAbsent(owner, o -> (long) owners.size() + 1);
    }

    /** A compare that reads no key: fences and holders as they were locked, sessions as they were read. */
    private boolean holds(Txn.Compare compare) {
        if (compare instanceof Txn.Compare.SessionAlive s) {
            return liveSessions.get(s.sessionId());
        }
        return locked.get(compare);
    }

    /** How many keys are attached to this session in the database: the play asks once, when it attaches one. */
    private long owned() {
        try {
            return backend.statements().queryLong(c, "ownedKeys", session);
        } catch (SQLException e) {
            throw new CountFailed(e);
        }
    }

    /** How the lock-table mode keeps a written key: an attached put's owner, a time to live from the database's clock. */
    private final class Writes implements KeyPlay.Writes<Key> {
        @Override
        public Key put(Txn.Op.Put put, long version, Key current) {
            PutOptions o = put.options();
            if (o.attached() && (current == null || current.attachment() != OWN) && !liveSessions.get(session)) {
                throw new SessionExpiredException("session " + session
                        + " has ended in the database (not renewed within its TTL): no key can be attached to it;"
                        + " open a new client");
            }
            Long expires = o.ttl().isZero() ? null : now + o.ttl().toMillis();
            return new Key(
                    put.key(), version, put.value(), o.attached() ? session : null, expires, o.attached() ? OWN : 0);
        }

        @Override
        public Key counted(String key, long version, byte[] value, Key current) {
            return current == null
                    ? new Key(key, version, value, null, null, 0)
                    : new Key(key, version, value, current.owner(), current.expiresMs(), current.attachment());
        }
    }

    /** Takes a written key's final state into its row (null: deleted). */
    private void written(String key, Key next) {
        Row row = rows.get(key);
        if (next == null) {
            if (row.version > 0) {
                absent(row);
                row.changed = true;
            }
            return;
        }
        row.version = next.version();
        row.value = next.value();
        row.owner = next.owner();
        row.expiresMs = next.expiresMs();
        row.changed = true;
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
