package io.holdfast.jdbc.internal;

import io.holdfast.UnavailableException;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Creates the lock tables on first use, from the dialect's {@code schema.sql}. Every statement is
 * {@code IF NOT EXISTS}; two processes racing on an empty database can still collide inside the
 * database's catalog (PostgreSQL reports a duplicate key in {@code pg_type}), so a failed statement
 * is tried again a few times: by then the other process has created the object and the statement
 * does nothing. A database that cannot be reached is not tried again here: the pool has waited its
 * timeout already. Done once per store and JVM.
 */
final class Schema {
    private static final Set<String> CREATED = ConcurrentHashMap.newKeySet();
    private static final int ATTEMPTS = 5;

    private Schema() {}

    static void create(Db db, JdbcUri uri) {
        if (CREATED.contains(uri.storeKey())) {
            return;
        }
        for (String ddl : uri.dialect().schema(uri.tablePrefix())) {
            for (int attempt = 1; ; attempt++) {
                try {
                    db.call("creating the lock tables", c -> {
                        try (Statement s = c.createStatement()) {
                            s.setQueryTimeout(db.queryTimeoutSeconds());
                            return s.execute(ddl);
                        }
                    });
                    break;
                } catch (UnavailableException e) {
                    // No connection at all (the pool's borrow timed out: the database is down or
                    // refuses) is no catalog race: trying again would only multiply the wait.
                    if (attempt == ATTEMPTS
                            || !(e.getCause() instanceof SQLException)
                            || e.getCause() instanceof java.sql.SQLTransientConnectionException) {
                        throw e;
                    }
                    try {
                        Thread.sleep(100L * attempt);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
            }
        }
        CREATED.add(uri.storeKey());
    }
}
