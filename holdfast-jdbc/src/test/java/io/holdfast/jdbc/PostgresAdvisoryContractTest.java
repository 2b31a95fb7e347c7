package io.holdfast.jdbc;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    /** The mode keeps no tables, so no keys: refused by name, before anything reaches PostgreSQL. */
    @Test
    void keysAreRefusedByName() {
        try (LockClient client = fixture.open(ClientOptions.defaults())) {
            assertThatThrownBy(client::keys)
                    .isInstanceOf(UnsupportedFeatureException.class)
                    .hasMessageContaining("keys");
        }
    }

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
