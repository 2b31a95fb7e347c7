package io.holdfast.redis;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.store.WatchSubscriptions;
import io.holdfast.testkit.WatchWakeupContract;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Watches of Redis are woken by pub/sub ({@link RedisWatches}), against an embedded Redis. A grant
 * that lapses publishes nothing, so a session's expiry is seen by polling only; an idle
 * subscription is dropped in Redis too, as Redis counts a channel's subscribers.
 */
class RedisWatchWakeupTest extends WatchWakeupContract {
    private static EmbeddedRedis redis;

    @BeforeAll
    static void startRedis() {
        redis = new EmbeddedRedis();
        redis.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.stop();
    }

    @Override
    protected Watcher watcher(ClientOptions options) {
        RedisBackend backend = RedisBackend.connect(RedisSettings.parse(redis.uri()), options);
        return new Watcher(backend::awaitWatched, () -> backend.watches().subscriptions(), backend::close);
    }

    @Override
    protected LockClient other(ClientOptions options) {
        return LockClient.open(redis.uri(), options);
    }

    @Override
    protected Set<Wakes> wakes() {
        return EnumSet.of(Wakes.LOCKS, Wakes.IDLE_SUBSCRIPTIONS);
    }

    @Override
    protected Duration idle() {
        return WatchSubscriptions.IDLE;
    }

    @Override
    protected long storeSubscribers(String name) {
        String channel = RedisWatches.lockChannel("holdfast:", name);
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return c.sync().pubsubNumsub(channel).getOrDefault(channel, 0L);
        } finally {
            client.shutdown();
        }
    }
}
