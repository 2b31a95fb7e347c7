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
 * The provider contract suite against the replicated lock service: one node reached in-process,
 * and a three-node cluster reached over the network through the {@code holdfast://} provider.
 */
class RaftContractTests {
    static ProviderFixture fixtureFor(TestCluster[] cluster, boolean network) {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return network ? cluster[0].open(options) : cluster[0].openInProcess(options);
            }

            @Override
            public Set<Capability> capabilities() {
                // Over the network the provider declares everything; a one-node cluster does not
                // survive a node failure, which no contract test exercises.
                return network
                        ? EnumSet.allOf(Capability.class)
                        : EnumSet.complementOf(EnumSet.of(Capability.SURVIVES_NODE_FAILURE));
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

    /** One node, reached in-process: the replicated service without the network. */
    @Nested
    class OneNodeInProcess extends LockProviderContract {
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
            return fixtureFor(CLUSTER, false);
        }
    }

    /** Three nodes, reached over gRPC with every member named in the URI, as users do. */
    @Nested
    class ThreeNodesOverGrpc extends LockProviderContract {
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
            return fixtureFor(CLUSTER, true);
        }
    }
}
