package io.holdfast.server;

import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Three nodes with TLS and access control on, named whole in the URI as users do: the client
 * port asks every client for a certificate from the cluster's CA, peers replicate over mutual
 * TLS, and the client (identity {@code client}, from its certificate) may acquire, read and
 * revoke every name, as the access rules say, and nothing more (no admin). The fixture is {@link
 * RaftContractTests#fixtureFor}.
 */
class RaftContractTlsTests extends LockProviderContract {
    private static final TestCluster[] CLUSTER = new TestCluster[1];

    static final String RULES = """
            user client app
            user ops    root
            role app    acquire * read * revoke *
            role root   admin *
            """;

    @BeforeAll
    static void start() throws Exception {
        CLUSTER[0] = new TestCluster(
                3,
                java.util.Set.of(),
                new TestTls(io.holdfast.protocol.TlsFiles.ClientAuth.REQUIRE),
                new ServerConfig.Auth(io.holdfast.core.AccessRules.parse(RULES), null));
        CLUSTER[0].awaitLeader(Duration.ofSeconds(20));
    }

    @AfterAll
    static void stop() throws Exception {
        CLUSTER[0].close();
    }

    @Override
    protected ProviderFixture fixture() {
        return RaftContractTests.fixtureFor(CLUSTER);
    }
}
