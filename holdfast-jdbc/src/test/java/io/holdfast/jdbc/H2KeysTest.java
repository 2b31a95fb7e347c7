package io.holdfast.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The lock-table mode's keys against a real server started by this class, once for all its tests. */
class H2KeysTest extends TableKeysContract {
    private static Stores.Store store;

    @BeforeAll
    static void startStore() {
        store = Stores.h2();
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

    /** None: H2 over TCP takes ~10 s to insert and delete 10,000 keys; PostgreSQL and MariaDB run it. */
    @Override
    protected String insertOwnedKeys() {
        return null;
    }

    @Override
    protected String dialect() {
        return "h2";
    }
}
