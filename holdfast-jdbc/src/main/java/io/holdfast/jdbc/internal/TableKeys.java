package io.holdfast.jdbc.internal;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.store.StoreKeys;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The lock-table mode's keys ({@link Keys}): the rows of {@code <prefix>registers}, so a register
 * and a key of one name are one record.
 *
 * <p>A read ({@link #get}, {@link #list}) is one statement, which sees the database's committed
 * state at one point: a key whose time to live has passed, or whose owner's session has ended, is
 * absent from then on, swept or not. Lists are in the byte order of the keys' UTF-8 (PostgreSQL's
 * {@code "C"} collation, MariaDB's {@code utf8mb4_nopad_bin}, H2's {@code name_utf8} column) and a
 * prefix is a range ({@code name >= prefix}, ended in Java at the first key outside it), never a
 * {@code LIKE}. Every write ({@link #put}, {@link #delete}, {@link #add}: a transaction of one op,
 * {@link StoreKeys}; {@link #commit}) is one database transaction of {@link KeyWork}, tried again
 * only when the database chose it as a deadlock's or serialization's victim (it was rolled back
 * whole). Arguments are trusted: {@code CheckedKeys} checked them.
 *
 * <p><b>Does not</b> keep a listing's position ({@link KeyListing#position()} is ""), or watch
 * keys itself: {@link #watch} is the client's polling watch ({@code WatchTarget.keys}).
 */
final class TableKeys extends StoreKeys {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TableKeys.class);
    private static final int VICTIM_RETRIES = 5;

    /** What the keys add to the lock table's capabilities. */
    static final Set<Capability> CAPABILITIES = EnumSet.of(
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS);

    private final TableBackend backend;
    private final KeySessions sessions;

    private TableKeys(TableBackend backend, KeySessions sessions) {
        super(backend.sessionId());
        this.backend = backend;
        this.sessions = sessions;
    }

    /** The keys of the backend's tables; null (said once in the log) where the tables predate keys. */
    static TableKeys open(TableBackend backend, ClientOptions options) {
        if (!schemaPresent(backend)) {
            return null;
        }
        return new TableKeys(backend, new KeySessions(backend, options, deleted -> deleted.forEach(backend::written)));
    }

    /** This client's session of keys: ended when the client closes, stopped when it crashes. */
    KeySessions sessions() {
        return sessions;
    }

    /**
     * Whether the tables have what registers and keys need (the columns and table of keys): a
     * database whose tables predate keys, with {@code holdfast.createSchema=false}, has neither until
     * this version's {@code schema.sql} is run, and says so once here.
     */
    private static boolean schemaPresent(TableBackend backend) {
        try {
            backend.db().call("checking the tables of keys", c -> {
                try (PreparedStatement ps = backend.statements().prepare(c, "keysSchema");
                        ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            });
            return true;
        } catch (UnavailableException e) {
            if (e.getCause() instanceof SQLException sql
                    && sql.getSQLState() != null
                    && sql.getSQLState().startsWith("42")) {
                LOG.warn(
                        "jdbc: the tables of {} predate keys ({}): registers and keys are off until this version's"
                                + " schema.sql is run on it (or holdfast.createSchema=true)",
                        backend.uri().redacted(),
                        sql.getMessage());
                return false;
            }
            throw e;
        }
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        return backend.db().call("reading key " + key, c -> {
            try (PreparedStatement ps = backend.statements().prepare(c, "readKey", key);
                    ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new KeyEntry(key, rs.getLong(1), rs.getBytes(2), rs.getString(3)))
                        : Optional.empty();
            }
        });
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        List<KeyEntry> page =
                backend.db().call("listing keys under '" + prefix + "'", c -> page(c, prefix, after, limit));
        boolean more = page.size() > limit;
        return new KeyListing(more ? page.subList(0, limit) : page, more, "");
    }

    /** Up to {@code limit} plus one keys: the one more says there are more. */
    private List<KeyEntry> page(Connection c, String prefix, String after, int limit) throws SQLException {
        List<KeyEntry> out = new ArrayList<>();
        try (PreparedStatement ps = backend.statements().prepare(c, "listKeys", prefix, after)) {
            ps.setInt(3, limit + 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next() && out.size() <= limit) {
                    String key = rs.getString(1);
                    if (!key.startsWith(prefix)) {
                        break; // past the prefix's range
                    }
                    out.add(new KeyEntry(key, rs.getLong(2), rs.getBytes(3), rs.getString(4)));
                }
            }
        }
        return out;
    }

    /** Refused: the client's {@code watch(WatchTarget.keys(prefix), listener)} watches keys. */
    @Override
    public Watch watch(String prefix, WatchListener listener) {
        throw new UnsupportedFeatureException("the jdbc provider watches keys through LockClient.watch("
                + "WatchTarget.keys(\"" + prefix + "\"), listener), not through its keys' engine");
    }

    /** One database transaction of {@link KeyWork}, for a single write as for a commit. */
    @Override
    protected TxnResult run(Txn txn, boolean single) {
        if (KeyWork.attaches(txn.then()) || KeyWork.attaches(txn.otherwise())) {
            sessions.start();
        }
        sessions.sweepIfDue();
        boolean ownRow = sessions.started();
        String what = single ? "writing key " + txn.then().get(0).key() : "committing a transaction of keys";
        return transact(backend, what, c -> KeyWork.run(backend, c, txn, single, ownRow))
                .result();
    }

    /**
     * Runs a {@link KeyWork} in one database transaction, again if the database rolled it back as a
     * deadlock's or serialization's victim ({@link #victim}), and wakes this JVM's watches of the
     * keys it changed once it committed.
     */
    static KeyWork.Done transact(TableBackend backend, String what, Db.Work<KeyWork.Done> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                KeyWork.Done done = backend.db().inTransactionOnce(what, work);
                done.changed().forEach(backend::written);
                return done;
            } catch (UnavailableException e) {
                if (attempt == VICTIM_RETRIES || !victim(e.getCause())) {
                    throw e;
                }
            }
        }
    }

    /**
     * Whether the database rolled the transaction back to break a deadlock or a serialization
     * conflict (SQLSTATE 40001, PostgreSQL's 40P01, H2's lock timeout): nothing of it stays, so it
     * may run again.
     */
    static boolean victim(Throwable e) {
        if (!(e instanceof SQLException sql)) {
            return false;
        }
        String state = sql.getSQLState();
        return "40001".equals(state) || "40P01".equals(state) || sql.getErrorCode() == 50200;
    }

    @Override
    public String toString() {
        return "TableKeys[" + backend + "]";
    }
}
