package io.holdfast.jdbc;

import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The contract suite against a real server started by this class, once for all its tests. */
class MariaDbContractTest extends LockProviderContract {
    private static Stores.Store store;
    private static JdbcFixture fixture;

    @BeforeAll
    static void startStore() {
        store = Stores.mariaDb();
        fixture = new JdbcFixture(store, "", JdbcFixture.TABLE);
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
