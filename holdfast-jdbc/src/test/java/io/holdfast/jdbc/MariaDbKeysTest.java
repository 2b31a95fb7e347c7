package io.holdfast.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The lock-table mode's keys against a real server started by this class, once for all its tests. */
class MariaDbKeysTest extends TableKeysContract {
    private static Stores.Store store;

    @BeforeAll
    static void startStore() {
        store = Stores.mariaDb();
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
        return "INSERT INTO holdfast_registers (name, version, data, owner) SELECT CONCAT(?, seq), 1, X'78', ? FROM seq_1_to_9999";
    }

    @Override
    protected String dialect() {
        return "mariadb";
    }
}
