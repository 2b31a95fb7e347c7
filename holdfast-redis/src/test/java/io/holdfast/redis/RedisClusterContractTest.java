package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The whole contract through {@code redis-cluster://}, against a Redis Cluster of six Debian
 * {@code redis-server} processes ({@link RedisCluster}) that every test of the class shares; the
 * outage tests stop and start all six. {@link Failover} kills the primary of a held lock's slot.
 *
 * <p>It takes about a minute and a half, so it runs only when asked: {@code
 * HOLDFAST_REDIS_CLUSTER=true} in the environment or {@code -Dholdfast.redis.cluster=true}; else
 * it is skipped with that reason.
 */
class RedisClusterContractTest extends LockProviderContract {
    static RedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        boolean asked = "true".equalsIgnoreCase(System.getenv("HOLDFAST_REDIS_CLUSTER"))
                || Boolean.getBoolean("holdfast.redis.cluster");
        Assumptions.assumeTrue(
                asked,
                "the Redis Cluster suite (six redis-server processes, about 90 s) runs with"
                        + " HOLDFAST_REDIS_CLUSTER=true or -Dholdfast.redis.cluster=true");
        cluster = RedisCluster.startOrSkip();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected ProviderFixture fixture() {
        Set<Capability> declared = EnumSet.copyOf(RedisFixture.ONE_REDIS);
        declared.remove(Capability.FENCED_REGISTERS); // a register and its fence's lock: two slots
        // the keys' scripts touch keys of several slots (the index, the session's record and set)
        declared.removeAll(
                EnumSet.of(Capability.KEYS, Capability.SESSION_KEYS, Capability.KEY_TTL, Capability.TRANSACTIONS));
        return new RedisFixture(() -> cluster.uri(), declared, () -> cluster.stopAll(), () -> cluster.startAll());
    }

    /**
     * Every name has a token counter of its own, in its own slot; grants of new names spread over
     * the three primaries, made one after the other by two clients (each of which lifts the
     * counters only to the highest token it has seen itself), still get tokens in grant order:
     * every counter follows the clock line, which moves with Redis's clock to the microsecond (the
     * primaries here share one clock). With a line that moved once a millisecond, two grants in
     * one millisecond got the same token.
     */
    @Test
    void grantsOfNewNamesOnEveryPrimaryGetTokensInGrantOrder() {
        String base = "tokens/" + UUID.randomUUID() + "/";
        try (LockClient a = LockClient.open(cluster.uri(), ClientOptions.defaults());
                LockClient b = LockClient.open(cluster.uri(), ClientOptions.defaults())) {
            List<Long> tokens = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                tokens.add((i % 2 == 0 ? a : b)
                        .lock(base + i)
                        .tryAcquire()
                        .orElseThrow()
                        .fencingToken());
            }
            assertThat(tokens)
                    .as("tokens of 400 new names in grant order")
                    .isSorted()
                    .doesNotHaveDuplicates();
        }
    }

    /**
     * With {@code replicas=1} a grant counts only once the replica of its slot's primary has it
     * ({@code WAIT} on the connection the grant's script went to): with that replica frozen, the
     * grant is refused as unavailable and given back. Sent on the cluster connection instead, the
     * {@code WAIT} would go to whichever node Lettuce picks for a command without keys, count no
     * write of that connection, and answer at once.
     */
    @Test
    void withReplicasOneAGrantTheReplicaOfItsSlotLacksIsNotAcknowledgedAndIsGivenBack() throws Exception {
        String name = "replicas/" + UUID.randomUUID();
        int primary = cluster.primaryOf(new RedisKeyLayout(RedisSettings.DEFAULT_PREFIX, true).holders(name));
        int replica = cluster.replicaOf(primary);
        ClientOptions options = ClientOptions.builder()
                .requestTimeout(java.time.Duration.ofSeconds(2)) // WAIT: half of it
                .build();
        try (LockClient a = LockClient.open(cluster.uri() + "?replicas=1", options);
                LockClient b = LockClient.open(cluster.uri(), options)) {
            a.lock(name).tryAcquire().orElseThrow().release(); // the replica answers: acknowledged
            cluster.freeze(replica);
            try {
                org.assertj.core.api.Assertions.assertThatThrownBy(
                                () -> a.lock(name).tryAcquire())
                        .isInstanceOf(io.holdfast.UnavailableException.class)
                        .hasMessageContaining("reached 0 of the 1 replica(s) it needs (replicas=1)");
            } finally {
                cluster.thaw(replica);
            }
            cluster.awaitInSync(primary, replica, java.time.Duration.ofSeconds(20));
            assertThat(b.lock(name).tryAcquire())
                    .as("the lock after a's unacknowledged grant was given back")
                    .isPresent();
        }
    }

    /** A primary killed under a held lock and a queued waiter ({@link RedisClusterFailover}). */
    @Nested
    class Failover extends RedisClusterFailover {
        @Override
        RedisCluster cluster() {
            return cluster;
        }
    }
}
