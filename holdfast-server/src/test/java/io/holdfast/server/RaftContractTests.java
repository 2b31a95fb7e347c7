package io.holdfast.server;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * The provider contract suite against the replicated lock service, reached in-process (the gRPC
 * client runs the same suite over the network): one node, and a three-node cluster.
 */
class RaftContractTests {
    static ProviderFixture fixtureFor(TestCluster[] cluster) {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return cluster[0].open(options);
            }

            @Override
            public Set<Capability> capabilities() {
                return EnumSet.complementOf(EnumSet.of(Capability.SURVIVES_NODE_FAILURE));
            }

            @Override
            public void crash(LockClient client) {
                ((ClientRuntime) client).simulateCrash();
            }

            @Override
            public Duration shortSessionTtl() {
                return Duration.ofSeconds(1);
            }
        };
    }

    @Nested
    class OneNode extends LockProviderContract {
        private static final TestCluster[] CLUSTER = new TestCluster[1];

        @BeforeAll
        static void start() throws Exception {
            CLUSTER[0] = new TestCluster(1);
            CLUSTER[0].awaitLeader(Duration.ofSeconds(20));
        }

        @AfterAll
        static void stop() throws Exception {
            CLUSTER[0].close();
        }

        @Override
        protected ProviderFixture fixture() {
            return fixtureFor(CLUSTER);
        }
    }

    @Nested
    class ThreeNodes extends LockProviderContract {
        private static final TestCluster[] CLUSTER = new TestCluster[1];

        @BeforeAll
        static void start() throws Exception {
            CLUSTER[0] = new TestCluster(3);
            CLUSTER[0].awaitLeader(Duration.ofSeconds(20));
        }

        @AfterAll
        static void stop() throws Exception {
            CLUSTER[0].close();
        }

        @Override
        protected ProviderFixture fixture() {
            return fixtureFor(CLUSTER);
        }
    }
}
