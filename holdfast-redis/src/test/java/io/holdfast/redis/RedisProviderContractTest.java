package io.holdfast.redis;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.store.StoreLockClient;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole contract against a real Redis (6.2, from the embedded-redis jar) that this test starts
 * on a free port, with an append-only file so a stop and start keep its data.
 */
class RedisProviderContractTest extends LockProviderContract {
    private static EmbeddedRedis redis;

    @BeforeAll
    static void startRedis() {
        redis = new EmbeddedRedis();
        redis.start();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.stop();
        }
    }

    @Override
    protected ProviderFixture fixture() {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return LockClient.open(redis.uri(), options);
            }

            @Override
            public Set<Capability> capabilities() {
                return EnumSet.of(
                        Capability.FAIR_QUEUE,
                        Capability.INSPECT,
                        Capability.READ_WRITE,
                        Capability.SEMAPHORE,
                        Capability.LEASE_TIMEOUT,
                        Capability.CHECK_FENCE,
                        Capability.REVOKE);
            }

            @Override
            public void crash(LockClient client) {
                ((StoreLockClient) client).crashForTest();
            }

            @Override
            public Duration shortSessionTtl() {
                return Duration.ofSeconds(2);
            }

            @Override
            public Optional<String> uri() {
                return Optional.of(redis.uri());
            }

            @Override
            public void stopStore() {
                redis.stop();
            }

            @Override
            public void startStore() {
                redis.start();
            }
        };
    }
}
