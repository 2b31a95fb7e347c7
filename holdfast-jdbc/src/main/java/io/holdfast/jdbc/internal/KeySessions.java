package io.holdfast.jdbc.internal;

import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.holdfast.internal.DaemonThreads;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions of keys in {@code <prefix>sessions}, and the sweep of what has ended.
 *
 * <p>This client's session gets its row at its first attached key ({@link #start}), with an expiry
 * of the session's TTL by the database's clock, renewed every third of it by a daemon thread
 * ({@code UPDATE ... WHERE expires_ms > now}, so a lapsed row is never revived). A row past its
 * expiry has ended: every read treats its keys as absent from that instant, and {@link #sweep}
 * deletes the row and its keys in one transaction (the session row locked first, then its keys,
 * the order of {@link KeyWork}). {@link #end} does the same for this session when the client
 * closes; after {@link #stop} (a simulated crash) the row lapses by itself.
 *
 * <p>Keys whose time to live passed are deleted by the sweep too, one transaction per key, each
 * re-checked under its row's lock. The sweep runs with every renewal and before a write of keys,
 * at most once a second per client: it frees rows; correctness never waits for it.
 */
final class KeySessions {
    private static final Logger log = LoggerFactory.getLogger(KeySessions.class);
    private static final long SWEEP_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final TableBackend backend;
    private final ClientOptions options;
    private final Consumer<List<String>> deleted;
    private ScheduledExecutorService renewals;
    private volatile boolean started;
    private volatile long lastSweep = System.nanoTime() - SWEEP_EVERY_NANOS;

    /** @param deleted told the keys a sweep or an end deleted, after its commit */
    KeySessions(TableBackend backend, ClientOptions options, Consumer<List<String>> deleted) {
        this.backend = backend;
        this.options = options;
        this.deleted = deleted;
    }

    /** Whether this session has its row (it has attached a key). */
    boolean started() {
        return started;
    }

    /** Creates this session's row if it has none yet, and starts renewing it. */
    synchronized void start() {
        if (started) {
            return;
        }
        backend.db()
                .call(
                        "starting the session of keys " + backend.sessionId(),
                        c -> backend.statements()
                                .update(c, "insertSession", backend.sessionId(), options.clientName(), ttlMillis()));
        started = true;
        long every = Math.max(1, ttlMillis() / 3);
        renewals = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-jdbc-session-renewal"));
        renewals.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    private long ttlMillis() {
        return options.sessionTtl().toMillis();
    }

    private void renew() {
        try {
            int renewed = backend.db()
                    .call(
                            "renewing the session of keys " + backend.sessionId(),
                            c -> backend.statements().update(c, "renewSession", ttlMillis(), backend.sessionId()));
            if (renewed == 0) {
                log.warn(
                        "jdbc: session {} ended in the database (not renewed within its TTL of {}); its attached keys are"
                                + " deleted and no key can be attached to it again",
                        backend.sessionId(),
                        options.sessionTtl());
                renewals.shutdown();
            }
            sweepIfDue();
        } catch (UnavailableException e) {
            log.debug("jdbc: renewing session {} failed; trying again", backend.sessionId(), e);
        } catch (RuntimeException e) {
            log.warn("jdbc: renewing session {} failed", backend.sessionId(), e);
        }
    }

    /** {@link #sweep} if a second has passed since the last; a failed sweep is left to the next. */
    void sweepIfDue() {
        long now = System.nanoTime();
        if (now - lastSweep >= SWEEP_EVERY_NANOS) {
            lastSweep = now;
            try {
                sweep();
            } catch (RuntimeException e) {
                log.debug("jdbc: sweeping ended sessions and lapsed keys failed; the next sweep tries again", e);
            }
        }
    }

    /** Deletes the sessions that have ended with their keys, and the keys whose time to live passed. */
    void sweep() {
        List<String> ended = backend.db().call("finding ended sessions", c -> names(c, "endedSessions", new Object[0]));
        for (String id : ended) {
            endSession(id, false);
        }
        List<String> lapsed = backend.db().call("finding lapsed keys", c -> names(c, "lapsedKeys", new Object[0]));
        for (String key : lapsed) {
            boolean gone = backend.db().inTransaction("deleting lapsed key " + key, c -> {
                try (PreparedStatement ps = backend.statements().prepare(c, "lockLapsedKey", key);
                        ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false; // written again meanwhile
                    }
                }
                backend.statements().update(c, "deleteKey", key);
                backend.announce(c, PgNotifier.writtenPayload(key));
                return true;
            });
            if (gone) {
                deleted.accept(List.of(key));
            }
        }
    }

    /**
     * Ends this session in the database (the client closes): its row and keys go in one
     * transaction. If the database cannot be reached, the row lapses by itself (logged).
     */
    void end() {
        stop();
        if (started) {
            try {
                endSession(backend.sessionId(), true);
            } catch (RuntimeException e) {
                log.warn(
                        "jdbc: ending session {} failed; its attached keys go when its row lapses",
                        backend.sessionId(),
                        e);
            }
        }
    }

    /** Stops renewing; the row lapses by itself. */
    synchronized void stop() {
        if (renewals != null) {
            renewals.shutdownNow();
        }
    }

    private void endSession(String id, boolean closing) {
        List<String> keys = backend.db().inTransaction("ending session " + id, c -> {
            Long expires = backend.statements().queryNullableLong(c, "lockSession", id);
            if (expires == null || (!closing && expires > backend.statements().queryLong(c, "clock"))) {
                return List.<String>of(); // renewed meanwhile, or ended by another client
            }
            List<String> names = names(c, "keysOf", new Object[] {id});
            backend.statements().update(c, "deleteKeysOf", id);
            backend.statements().update(c, "deleteSession", id);
            for (String key : names) {
                backend.announce(c, PgNotifier.writtenPayload(key));
            }
            return names;
        });
        if (!keys.isEmpty()) {
            deleted.accept(keys);
        }
    }

    private List<String> names(Connection c, String statement, Object[] params) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = backend.statements().prepare(c, statement, params);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
