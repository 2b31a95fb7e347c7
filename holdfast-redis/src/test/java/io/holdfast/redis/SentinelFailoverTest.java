package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code redis-sentinel://} through real failovers: a primary, a replica and three Sentinels
 * (Debian's redis-server), each test with a group of its own. Redis replicates asynchronously, so
 * a failover can lose a grant; what must hold is that the client follows the new primary, that a
 * grant the replica had survives, and that a token is never given twice, so a resource that checks
 * tokens refuses the holder whose grant was lost.
 */
@Timeout(120)
class SentinelFailoverTest {
    private static final Duration FAILOVER = Duration.ofSeconds(40);

    private SentinelRedis redis;
    private final List<LockClient> clients = new ArrayList<>();
    private final String name = "coupon/" + UUID.randomUUID();

    @BeforeEach
    void start() {
        redis = SentinelRedis.startOrSkip();
    }

    @AfterEach
    void stop() throws InterruptedException {
        clients.forEach(LockClient::close);
        if (redis != null) {
            redis.close();
        }
    }

    private LockClient open(String clientName) {
        return open(clientName, Duration.ofSeconds(3));
    }

    private LockClient open(String clientName, Duration sessionTtl) {
        return open(clientName, sessionTtl, "");
    }

    private LockClient open(String clientName, Duration sessionTtl, String options) {
        return open(clientName, sessionTtl, options, Duration.ofSeconds(3));
    }

    private LockClient open(String clientName, Duration sessionTtl, String options, Duration connectTimeout) {
        LockClient client = LockClient.open(
                redis.uri() + options,
                ClientOptions.builder()
                        .clientName(clientName)
                        .sessionTtl(sessionTtl)
                        .connectTimeout(connectTimeout)
                        .requestTimeout(Duration.ofSeconds(1))
                        .retryPolicy(RetryPolicy.defaults())
                        .build());
        clients.add(client);
        return client;
    }

    /** A resource that accepts a write only with a token larger than every token it has seen. */
    private static final class FencedResource {
        private final AtomicLong highest = new AtomicLong();

        boolean write(long token) {
            long seen = highest.get();
            while (token > seen) {
                if (highest.compareAndSet(seen, token)) {
                    return true;
                }
                seen = highest.get();
            }
            return false;
        }
    }

    @Test
    void aGrantTheReplicaHadSurvivesTheFailoverAndTheClientsFollowTheNewPrimary() throws Exception {
        LockClient a = open("a", Duration.ofSeconds(20)); // outlives the failover without a renewal
        LockClient b = open("b");
        Lease held = a.lock(name).acquire(Duration.ofSeconds(5)); // acknowledged: the replica has it
        RedisProcess old = redis.primary();

        old.freeze(); // a paused host: no answer, no closed connection
        RedisProcess promoted = redis.awaitFailover(old, FAILOVER);
        // Grants need a replica (replicas=1): the other replica follows the new primary.
        redis.awaitReplicating(
                redis.replicas().stream().filter(r -> r != old).findFirst().orElseThrow(), promoted, FAILOVER);

        Lease other = b.lock(name + "/other").acquire(Duration.ofSeconds(10));
        assertThat(other.fencingToken())
                .as("b's first grant on the promoted replica")
                .isGreaterThan(held.fencingToken());
        assertThat(b.lock(name).tryAcquire())
                .as("the grant from before the failover, which the replica had")
                .isEmpty();
        assertThat(held.isValid()).as("a's lease after the failover").isTrue();

        held.release(); // through the new primary, or b could not take it now
        Optional<Lease> next = b.lock(name).tryAcquire();
        assertThat(next).as("after a released it").isPresent();
        assertThat(next.get().fencingToken()).isGreaterThan(other.fencingToken());
    }

    @Test
    void aGrantNoReplicaHasIsNotAcknowledgedAndIsGivenBack() throws Exception {
        LockClient a = open("a");
        LockClient b = open("b");
        List<RedisProcess> replicas = redis.replicas();
        replicas.forEach(RedisProcess::freeze);
        try {
            assertThatThrownBy(() -> a.lock(name).tryAcquire())
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("reached 0 of the 1 replica(s) it needs (replicas=1)");
        } finally {
            replicas.forEach(RedisProcess::thaw);
        }
        redis.awaitReplicasInSync(Duration.ofSeconds(20));
        assertThat(b.lock(name).tryAcquire())
                .as("the lock after a's unacknowledged grant was given back")
                .isPresent();
    }

    @Test
    void aGrantTheFailoverLostIsNeverGivenTheSameTokenAndItsHolderIsRefused() throws Exception {
        // replicas=0: a grant is acknowledged by the primary alone, so a failover can lose it.
        LockClient a = open("a", Duration.ofSeconds(3), "&replicas=0");
        FencedResource coupons = new FencedResource();
        RedisProcess old = redis.primary();
        List<RedisProcess> replicas = redis.replicas();

        // The replicas stop hearing the primary: what lagging replicas are when their primary dies.
        replicas.forEach(RedisProcess::freeze);
        SentinelRedis.onServer(old, c -> c.sync().clientKill(io.lettuce.core.KillArgs.Builder.typeSlave()));
        Lease lost = a.lock(name).acquire(Duration.ofSeconds(5)); // only the primary has it
        assertThat(coupons.write(lost.fencingToken())).isTrue();
        old.kill();
        replicas.forEach(RedisProcess::thaw);
        // Opened while the Sentinels still name the dead primary: it asks them again until the
        // failover is done (within its connect timeout), instead of failing at the refusal.
        LockClient b = open("b", Duration.ofSeconds(3), "&replicas=0", Duration.ofSeconds(30));
        RedisProcess promoted = redis.awaitFailover(old, FAILOVER);
        assertThat(promoted).isNotSameAs(old);

        Lease taken = b.lock(name).acquire(Duration.ofSeconds(20));
        assertThat(taken.fencingToken())
                .as("the token of the grant after the failover lost token %d", lost.fencingToken())
                .isGreaterThan(lost.fencingToken());
        assertThat(coupons.write(taken.fencingToken())).isTrue();
        assertThat(coupons.write(lost.fencingToken()))
                .as("a, whose grant the failover lost, writing again")
                .isFalse();
    }
}
