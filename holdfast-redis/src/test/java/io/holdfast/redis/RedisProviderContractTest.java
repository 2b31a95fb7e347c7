package io.holdfast.redis;

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
 * The whole contract against a real Redis (6.2, from the embedded-redis jar) that this test starts
 * on a free port, with an append-only file so a stop and start keep its data.
 *
 * <p>With {@code -Dholdfast.redis.uri=redis://host:port} it runs against that Redis instead (such
 * as Debian's redis-server 7); the outage tests are then skipped, since the test cannot stop it.
 */
class RedisProviderContractTest extends LockProviderContract {
    private static final String EXTERNAL = System.getProperty("holdfast.redis.uri", "");
    private static EmbeddedRedis redis;

    @BeforeAll
    static void startRedis() {
        if (EXTERNAL.isEmpty()) {
            redis = new EmbeddedRedis();
            redis.start();
        }
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.stop();
        }
    }

    private static String redisUri() {
        return EXTERNAL.isEmpty() ? redis.uri() : EXTERNAL;
    }

    private static EmbeddedRedis ours() {
        if (redis == null) {
            throw new UnsupportedOperationException("the test does not own the Redis at " + EXTERNAL);
        }
        return redis;
    }

    @Override
    protected ProviderFixture fixture() {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return LockClient.open(redisUri(), options);
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
                        Capability.REVOKE,
                        Capability.MULTI_LOCK,
                        Capability.REGISTERS,
                        Capability.FENCED_REGISTERS,
                        Capability.KEYS,
                        Capability.SESSION_KEYS,
                        Capability.KEY_TTL,
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
                return Optional.of(redisUri());
            }

            @Override
            public void stopStore() {
                ours().stop();
            }

            @Override
            public void startStore() {
                ours().start();
            }
        };
    }
}
