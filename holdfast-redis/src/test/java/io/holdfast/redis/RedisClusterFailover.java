package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.HolderInfo;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code redis-cluster://} through the failover of a primary: a lock held and a waiter queued on
 * the slot of one primary, which is killed ({@code SIGKILL}); its replica, which has both (the test
 * waits until it has caught up, since Redis replicates asynchronously), takes its place. Once the
 * clients' calls reach the promoted replica, it has the holder and the waiter; the holder releases
 * through it and the waiter is granted with a larger token; no other client holds the lock at any
 * time. The killed node is started again afterwards and rejoins
 * as a replica, so the cluster is whole for whatever test runs next.
 */
@Timeout(120)
abstract class RedisClusterFailover {
    private static final Duration FAILOVER = Duration.ofSeconds(40);

    private final List<LockClient> clients = new ArrayList<>();
    private final String name = "failover/" + UUID.randomUUID();

    abstract RedisCluster cluster();

    @AfterEach
    void closeClients() {
        clients.forEach(LockClient::close);
    }

    private LockClient open(String clientName) {
        LockClient client = LockClient.open(
                cluster().uri(),
                ClientOptions.builder()
                        .clientName(clientName)
                        .sessionTtl(Duration.ofSeconds(30)) // outlives the failover without a renewal
                        .connectTimeout(Duration.ofSeconds(5))
                        .requestTimeout(Duration.ofSeconds(2))
                        .retryPolicy(RetryPolicy.defaults())
                        .build());
        clients.add(client);
        return client;
    }

    @Test
    void aHeldLockAndAQueuedWaiterSurviveTheFailoverOfTheirPrimary() throws Exception {
        RedisCluster redis = cluster();
        LockClient a = open("a");
        LockClient b = open("b");
        LockClient observer = open("observer");
        Lease held = a.lock(name).acquire(Duration.ofSeconds(5));
        CompletableFuture<Lease> waiting = b.lock(name).acquireAsync(Duration.ofSeconds(60));
        Awaitility.await("b queued behind a")
                .atMost(Duration.ofSeconds(10))
                .until(() -> observer.admin()
                                .describe(name)
                                .map(LockInfo::waiters)
                                .orElse(List.of())
                                .size()
                        == 1);

        String holders = new RedisKeyLayout(RedisSettings.DEFAULT_PREFIX, true).holders(name);
        int primary = redis.primaryOf(holders);
        int replica = redis.replicaOf(primary);
        redis.awaitInSync(primary, replica, Duration.ofSeconds(10)); // the grant and the queue are on the replica
        redis.kill(primary);
        long killed = System.nanoTime();
        redis.awaitPromotion(replica, FAILOVER);
        long promoted = System.nanoTime();

        // A call to the slot waits for the dead primary (and fails unavailable) until the client's
        // topology names the promoted replica: about a second after the promotion, at most 5 s.
        for (LockClient client : List.of(a, observer)) {
            LockInfo seen = Awaitility.await("a call of " + client + " that reaches the promoted replica")
                    .atMost(FAILOVER)
                    .ignoreException(UnavailableException.class)
                    .until(() -> client.admin().describe(name).orElseThrow(), info -> true);
            assertThat(seen.holders())
                    .as("the holders after the failover")
                    .extracting(HolderInfo::fencingToken)
                    .containsExactly(held.fencingToken());
            assertThat(seen.waiters()).as("the waiters after the failover").hasSize(1);
        }
        assertThat(observer.lock(name).tryAcquire())
                .as("the lock after the failover, still a's")
                .isEmpty();
        assertThat(waiting).as("b's wait while a holds the lock").isNotDone();
        assertThat(held.isValid()).as("a's lease after the failover").isTrue();

        held.release(); // through the promoted replica
        Lease granted = waiting.get(30, TimeUnit.SECONDS);
        long done = System.nanoTime();
        assertThat(granted.fencingToken())
                .as("b's token, after a's %d", held.fencingToken())
                .isGreaterThan(held.fencingToken());
        Optional<LockInfo> now = observer.admin().describe(name);
        assertThat(now).isPresent();
        assertThat(now.get().holders()).hasSize(1);
        assertThat(now.get().holders().get(0).fencingToken()).isEqualTo(granted.fencingToken());
        granted.release();
        System.out.printf(
                "redis-cluster failover: primary :%d killed, replica :%d promoted after %d ms, b granted %d ms later%n",
                primary,
                replica,
                TimeUnit.NANOSECONDS.toMillis(promoted - killed),
                TimeUnit.NANOSECONDS.toMillis(done - promoted));

        redis.restart(primary); // rejoins as a replica: the cluster is whole again
    }
}
