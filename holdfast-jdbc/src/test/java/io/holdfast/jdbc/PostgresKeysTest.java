package io.holdfast.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The lock-table mode's keys against a real server started by this class, once for all its tests. */
class PostgresKeysTest extends TableKeysContract {
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
    protected String uri() {
        return store.uri();
    }

    @Override
    protected String insertOwnedKeys() {
        return "INSERT INTO holdfast_registers (name, version, data, owner) SELECT CAST(? AS VARCHAR) || g, 1, decode('78', 'hex'), CAST(? AS VARCHAR) FROM generate_series(1, 9999) g";
    }

    @Override
    protected String otherUri() {
        return store.uri() + "&ApplicationName=other";
    }

    @Override
    protected String dialect() {
        return "postgresql";
    }
}
