package io.holdfast.jdbc;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.jdbc.internal.JdbcUri;
import io.holdfast.jdbc.internal.TableBackend;
import io.holdfast.testkit.WatchWakeupContract;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Watches of the lock-table mode on PostgreSQL are woken by LISTEN/NOTIFY. The other clients reach
 * the same database through another URL (another {@code ApplicationName}), so this JVM's own
 * wake-ups, which are shared by the clients of one URL, never reach the watcher: only PostgreSQL's
 * notifications do, as for a client in another process. A grant that lapses sends nothing.
 */
class PostgresWatchWakeupTest extends WatchWakeupContract {
    private static Stores.Store store;

    @BeforeAll
    static void startStore() {
        store = Stores.postgres();
    }

    @AfterAll
    static void stopStore() {
        if (store != null) {
            store.close();
        }
    }

    @Override
    protected Watcher watcher(ClientOptions options) {
        TableBackend backend = new TableBackend(JdbcUri.parse(store.uri()), options);
        return new Watcher(backend::awaitWatched, backend::close);
    }

    @Override
    protected LockClient other(ClientOptions options) {
        return LockClient.open(store.uri() + "&ApplicationName=other", options);
    }

    @Override
    protected LockClient observer(ClientOptions options) {
        return LockClient.open(store.uri(), options);
    }

    @Override
    protected Set<Wakes> wakes() {
        return EnumSet.of(Wakes.LOCKS);
    }
}
