package io.holdfast.zookeeper;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The contract against a real ZooKeeper server that the test starts itself (Curator's {@code
 * TestingServer}, which can stop and restart on the same port with its data).
 */
class ZooKeeperProviderContractTest extends LockProviderContract {
    private static ZooKeeperTestServer server;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        server = ZooKeeperTestServer.start();
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected ProviderFixture fixture() {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return LockClient.open(server.uri(), options);
            }

            @Override
            public Set<Capability> capabilities() {
                return EnumSet.of(
                        Capability.FAIR_QUEUE,
                        Capability.READ_WRITE,
                        Capability.SEMAPHORE,
                        Capability.INSPECT,
                        Capability.CHECK_FENCE,
                        Capability.REVOKE,
                        Capability.MULTI_LOCK,
                        Capability.REGISTERS,
                        Capability.FENCED_REGISTERS,
                        Capability.SURVIVES_NODE_FAILURE,
                        Capability.KEYS,
                        Capability.SESSION_KEYS,
                        Capability.TRANSACTIONS);
            }

            @Override
            public void crash(LockClient client) {
                io.holdfast.internal.CrashSimulation.crash(client);
            }

            @Override
            public Duration shortSessionTtl() {
                return Duration.ofSeconds(2);
            }

            @Override
            public Optional<String> uri() {
                return Optional.of(server.uri());
            }

            @Override
            public void stopStore() {
                server.stop();
            }

            @Override
            public void startStore() {
                server.restart();
            }
        };
    }
}
