package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
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
        LockClient client = LockClient.open(
                redis.uri(),
                ClientOptions.builder()
                        .clientName(clientName)
                        .sessionTtl(sessionTtl)
                        .connectTimeout(Duration.ofSeconds(3))
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
        Lease held = a.lock(name).acquire(Duration.ofSeconds(5));
        redis.awaitReplicated(Duration.ofSeconds(10));
        RedisProcess old = redis.primary();
        RedisProcess promoted = redis.replica();

        old.freeze(); // a paused host: no answer, no closed connection
        redis.awaitPrimary(promoted, FAILOVER);

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
    void aGrantTheFailoverLostIsNeverGivenTheSameTokenAndItsHolderIsRefused() throws Exception {
        LockClient a = open("a");
        LockClient b = open("b");
        FencedResource coupons = new FencedResource();
        RedisProcess old = redis.primary();
        RedisProcess promoted = redis.replica();

        // The replica stops hearing the primary: what a lagging replica is when its primary dies.
        promoted.freeze();
        SentinelRedis.onServer(old, c -> c.sync().clientKill(io.lettuce.core.KillArgs.Builder.typeSlave()));
        Lease lost = a.lock(name).acquire(Duration.ofSeconds(5));
        assertThat(coupons.write(lost.fencingToken())).isTrue();
        old.kill();
        promoted.thaw();
        redis.awaitPrimary(promoted, FAILOVER);

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
