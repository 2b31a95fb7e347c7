package io.holdfast.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    /**
     * The URL a user writes for a stock MariaDB (Debian's mariadb-server has no TLS, like this
     * server): without sslMode=disable the driver insists on TLS. The error is the driver's, which
     * says so and how to fix it, at once (not the pool's timeout, a minute later).
     */
    @Test
    void aServerWithoutTlsIsReportedWithTheWayOut() {
        String uri = store.uri().replace("&sslMode=disable", "");
        assertThat(uri).doesNotContain("sslMode");
        ClientOptions options = ClientOptions.builder()
                .connectTimeout(java.time.Duration.ofSeconds(2))
                .build();
        long start = System.nanoTime();
        assertThatThrownBy(() -> LockClient.open(uri, options).close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1")
                .hasMessageContaining("ssl not enabled in the server")
                .hasMessageContaining("sslMode=disable");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(5));
    }

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
