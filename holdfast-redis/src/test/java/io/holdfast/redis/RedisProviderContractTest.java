package io.holdfast.redis;

import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
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
        return new RedisFixture(
                RedisProviderContractTest::redisUri, RedisFixture.ONE_REDIS, () -> ours().stop(), () -> ours().start());
    }
}
