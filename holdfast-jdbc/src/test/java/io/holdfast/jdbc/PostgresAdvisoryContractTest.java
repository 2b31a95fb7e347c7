package io.holdfast.jdbc;

import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The contract suite, PostgreSQL advisory-lock mode, against a real PostgreSQL started once for the class. */
class PostgresAdvisoryContractTest extends LockProviderContract {
    private static Stores.Store store;
    private static JdbcFixture fixture;

    @BeforeAll
    static void startStore() {
        store = Stores.postgres();
        fixture = new JdbcFixture(store, "&holdfast.mode=advisory", JdbcFixture.ADVISORY);
    }

    @AfterAll
    static void stopStore() {
        if (store != null) {
            store.close();
        }
    }

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
