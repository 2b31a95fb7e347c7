package io.holdfast.etcd;

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
 * The whole contract suite against a real etcd started by the test (see {@link EtcdServer}): one
 * member on loopback, stopped and started again by the outage tests.
 */
class EtcdProviderContractTest extends LockProviderContract {
    /**
     * What the etcd provider promises against one member, written out here so that a change to it
     * shows up in review. A client of a cluster of three or more also declares {@link
     * Capability#SURVIVES_NODE_FAILURE} ({@link EtcdClusterTest}).
     */
    private static final Set<Capability> DECLARED = EnumSet.of(
            Capability.FAIR_QUEUE,
            Capability.READ_WRITE,
            Capability.SEMAPHORE,
            Capability.LEASE_TIMEOUT,
            Capability.CHECK_FENCE,
            Capability.INSPECT,
            Capability.MULTI_LOCK,
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS);

    private static EtcdServer etcd;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdServer.startOrSkip();
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.stop();
        }
    }

    @Override
    protected ProviderFixture fixture() {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return LockClient.open(etcd.uri(), options);
            }

            @Override
            public Set<Capability> capabilities() {
                return DECLARED;
            }

            @Override
            public void crash(LockClient client) {
                io.holdfast.internal.CrashSimulation.crash(client);
            }

            /** etcd's shortest lease TTL with its default 100 ms heartbeat is 1.5 s, rounded up to 2 s. */
            @Override
            public Duration shortSessionTtl() {
                return Duration.ofSeconds(2);
            }

            @Override
            public Optional<String> uri() {
                return Optional.of(etcd.uri());
            }

            @Override
            public void stopStore() {
                etcd.stop();
            }

            @Override
            public void startStore() {
                etcd.start();
            }
        };
    }
}
