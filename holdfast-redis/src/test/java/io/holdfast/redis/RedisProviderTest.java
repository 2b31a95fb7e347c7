package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What is particular to Redis, against a real server of its own (restarted by some tests): the
 * token counter across restarts and data loss, scripts Redis has forgotten, key prefixes, and a
 * Redis that cannot be reached.
 */
@Timeout(120)
class RedisProviderTest {
    private static EmbeddedRedis redis;
    private final List<LockClient> clients = new ArrayList<>();
    private final String name = "redis-test/" + UUID.randomUUID();

    @BeforeAll
    static void startRedis() {
        redis = new EmbeddedRedis();
        redis.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.stop();
    }

    @AfterEach
    void closeClients() {
        clients.forEach(LockClient::close);
    }

    private LockClient open(String uri, ClientOptions options) {
        LockClient client = LockClient.open(uri, options);
        clients.add(client);
        return client;
    }

    private LockClient open() {
        return open(redis.uri(), quick());
    }

    private static ClientOptions quick() {
        return ClientOptions.builder()
                .requestTimeout(Duration.ofSeconds(1))
                .retryPolicy(RetryPolicy.defaults())
                .build();
    }

    /** Runs raw commands against the test's Redis, as an operator with redis-cli would. */
    private static void onRedis(Consumer<StatefulRedisConnection<String, String>> action) {
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            action.accept(c);
        } finally {
            client.shutdown();
        }
    }

    @Test
    void theProviderIsFoundByItsScheme() {
        LockClient client = open();
        assertThat(client.toString()).contains("redis");
        assertThat(client.lock(name).tryAcquire()).isPresent();
    }

    @Test
    void aRestartWithItsAppendOnlyFileKeepsGrantsAndTokensAndTheClientCarriesOn() throws InterruptedException {
        LockClient holder = open();
        Lease held = holder.lock(name).acquire(Duration.ofSeconds(5));
        LockClient other = open();

        redis.stop();
        assertThatThrownBy(() -> other.lock(name + "/x").tryAcquire())
                .as("a try while Redis is down")
                .isInstanceOf(UnavailableException.class);
        redis.start();

        Lease next = other.lock(name + "/y").acquire(Duration.ofSeconds(10));
        assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
        assertThat(other.lock(name).tryAcquire())
                .as("the grant from before the restart")
                .isEmpty();
        held.release();
        assertThat(other.lock(name).tryAcquire()).isPresent();
    }

    @Test
    void afterRedisLosesItsDataTokensStillGrowForAClientThatSawHigherOnes() throws InterruptedException {
        LockClient client = open();
        long before = 0;
        for (int i = 0; i < 3; i++) {
            Lease lease = client.lock(name).acquire(Duration.ofSeconds(5));
            before = lease.fencingToken();
            lease.release();
        }
        Thread.sleep(5); // a real restart takes longer than the millisecond a new counter starts from
        onRedis(c -> c.sync().flushall()); // what a restart without persistence does

        Lease fresh = open().lock(name).acquire(Duration.ofSeconds(5));
        assertThat(fresh.fencingToken())
                .as("the first token after Redis lost its data, to a client that never saw %d", before)
                .isGreaterThan(before);
        fresh.release();
        Lease after = client.lock(name).acquire(Duration.ofSeconds(5));
        assertThat(after.fencingToken()).isGreaterThan(fresh.fencingToken());
    }

    /**
     * A Redis that snapshots now and then (RDB, no append-only file) and restarts loses the
     * increments after its last snapshot. A client that never saw the lost tokens must still get a
     * larger one: the counter never falls below Redis's clock line, which moved on while Redis
     * restarted. Without the clock line the token after the restart repeats the first lost one.
     */
    @Test
    void tokensLostWithARestartsLastWritesAreNeverGivenAgain() throws InterruptedException {
        EmbeddedRedis snapshots = new EmbeddedRedis("appendonly no");
        snapshots.start();
        try {
            LockClient first = open(snapshots.uri(), quick());
            first.lock(name).acquire(Duration.ofSeconds(5)).release();
            RedisClient raw = RedisClient.create(snapshots.uri());
            try (StatefulRedisConnection<String, String> c = raw.connect()) {
                assertThat(c.sync().save()).isEqualTo("OK");
            } finally {
                raw.shutdown();
            }
            long lost = 0;
            for (int i = 0; i < 3; i++) { // written after the snapshot: gone with the restart
                Lease lease = first.lock(name).acquire(Duration.ofSeconds(5));
                lost = lease.fencingToken();
                lease.release();
            }
            first.close();

            snapshots.stop();
            snapshots.start();

            LockClient second = open(snapshots.uri(), quick());
            long next = second.lock(name).acquire(Duration.ofSeconds(5)).fencingToken();
            assertThat(next)
                    .as("the first token after a restart that lost tokens up to %d", lost)
                    .isGreaterThan(lost);
        } finally {
            snapshots.stop();
        }
    }

    @Test
    void scriptsRedisHasForgottenAreSentAgain() throws InterruptedException {
        LockClient client = open();
        client.lock(name).acquire(Duration.ofSeconds(5)).release();
        onRedis(c -> c.sync().scriptFlush());
        Lease lease = client.lock(name).acquire(Duration.ofSeconds(5));
        assertThat(lease.isValid()).isTrue();
        lease.release();
    }

    @Test
    void prefixesKeepApplicationsApart() throws InterruptedException {
        LockClient a = open(redis.uri() + "?prefix=app-a:", quick());
        LockClient b = open(redis.uri() + "?prefix=app-b:", quick());
        Lease inA = a.lock(name).acquire(Duration.ofSeconds(5));
        assertThat(b.lock(name).tryAcquire())
                .as("the same name under another prefix")
                .isPresent();
        assertThat(open(redis.uri() + "?prefix=app-a:", quick()).lock(name).tryAcquire())
                .as("the same name under the same prefix")
                .isEmpty();
        inA.release();
    }

    @Test
    void theKeyOfAnAbandonedNameExpiresInRedis() throws InterruptedException {
        LockClient client = open(
                redis.uri() + "?prefix=expiry-test:",
                quick().toBuilder().sessionTtl(Duration.ofSeconds(1)).build());
        client.lock(name).acquire(AcquireOptions.waitUpTo(Duration.ofSeconds(5)));
        long[] ttl = new long[1];
        onRedis(c -> ttl[0] = c.sync().pttl("expiry-test:lock:" + name));
        assertThat(ttl[0]).as("PTTL of the name's hash, ms").isBetween(1L, 1000L);
    }

    /** A request timeout far above the connect timeout: opening must be bounded by the latter. */
    private static ClientOptions unhurried() {
        return ClientOptions.builder()
                .requestTimeout(Duration.ofSeconds(20))
                .connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    private static ClientOptions connectWithin1s() {
        return ClientOptions.builder()
                .requestTimeout(Duration.ofSeconds(20))
                .connectTimeout(Duration.ofSeconds(1))
                .build();
    }

    @Test
    void anUnreachableRedisIsUnavailableAtOnceNamingTheRefusal() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> open("redis://127.0.0.1:1", connectWithin1s()))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:1")
                .message()
                .containsIgnoringCase("connection refused");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    /**
     * A connection closed during its handshake is tried again until the connect timeout is spent
     * (Lettuce's own failed handshake can end that way, see RedisLink), then reported as it is.
     * The peer here accepts and closes every connection at once.
     */
    @Test
    void aHandshakeCutShortIsTriedAgainWithinTheConnectTimeout() throws Exception {
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        try (java.net.ServerSocket closer =
                new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (!closer.isClosed()) {
                    try (java.net.Socket s = closer.accept()) {
                        accepted.incrementAndGet();
                    } catch (java.io.IOException e) {
                        return; // closed
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            String where = "127.0.0.1:" + closer.getLocalPort();
            // Lettuce says either, for a handshake whose channel closed: which one depends on whether the
            // close or the handshake's registration comes first (CI rehearsal ci36; see the next test).
            assertThatThrownBy(() -> open("redis://" + where, connectWithin1s()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(where)
                    .message()
                    .containsAnyOf("Connection closed prematurely", "RedisHandshakeHandler not registered");
        }
        assertThat(accepted.get()).as("connections the open made").isGreaterThan(1);
    }

    @Test
    void aRefusedPasswordIsReportedAsRedisSaysItWithoutThePassword() {
        // Not about time: the connection and its handshake get ten seconds. Two CI runs got
        // "Connection closed prematurely" instead of Redis's WRONGPASS, the second after 0.2 s:
        // Lettuce's failed handshake closes the channel before it records why, and the closed
        // channel can win; RedisLink now opens again on that (see its class comment). A third run got
        // "RedisHandshakeHandler not registered", the same race (2 of 300 opens under load).
        EmbeddedRedis secured = new EmbeddedRedis("requirepass right-one");
        secured.start();
        try {
            String where = "127.0.0.1:" + secured.port();
            assertThatThrownBy(() -> open("redis://:wrong-one@" + where, unhurried()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(where)
                    .hasMessageContaining("WRONGPASS")
                    .message()
                    .doesNotContain("wrong-one");
            assertThatThrownBy(() -> open("redis://" + where, unhurried()))
                    .as("no password at all")
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("NOAUTH");
            try (LockClient right = LockClient.open("redis://:right-one@" + where, unhurried())) {
                assertThat(right.lock(name).tryAcquire())
                        .as("the right password opens it")
                        .isPresent();
            }
        } finally {
            secured.stop();
        }
    }

    @Test
    void aRedisThatNeverAnswersIsUnavailableWithinTheConnectTimeout() throws Exception {
        // Accepts connections (the kernel completes them) and never answers a byte.
        try (java.net.ServerSocket silent =
                new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            String where = "127.0.0.1:" + silent.getLocalPort();
            long start = System.nanoTime();
            assertThatThrownBy(() -> open("redis://" + where, connectWithin1s()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(where)
                    .hasMessageContaining("timed out");
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("the connect timeout (1 s) bounds opening, not the request timeout (20 s)")
                    .isLessThan(Duration.ofSeconds(6));
        }
    }

    @Test
    void aWaitWhileRedisIsDownEndsWithUnavailableExceptionNotAHang() {
        LockClient client = open();
        redis.stop();
        try {
            long start = System.nanoTime();
            assertThatThrownBy(() -> client.lock(name).acquire(Duration.ofSeconds(2)))
                    .isInstanceOf(UnavailableException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
        } finally {
            redis.start();
        }
    }

    @Test
    void aMalformedUriIsInvalidArgumentBeforeAnyConnection() {
        assertThatThrownBy(() -> LockClient.open("redis://localhost:6379/notanumber"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("database number");
    }

    @Test
    void aRegisterWriteSentAgainAfterAReconnectIsAnsweredAsWrittenNotAsAConflict() {
        String key = "register-resend/" + UUID.randomUUID();
        onRedis(c -> {
            String[] keys = {key, key};
            List<Long> first = c.sync()
                    .eval(
                            RedisRegisters.WRITE.text(),
                            io.lettuce.core.ScriptOutputType.MULTI,
                            keys,
                            "0",
                            "AAE=",
                            "write-1",
                            "",
                            "0");
            List<Long> again = c.sync()
                    .eval(
                            RedisRegisters.WRITE.text(),
                            io.lettuce.core.ScriptOutputType.MULTI,
                            keys,
                            "0",
                            "AAE=",
                            "write-1",
                            "",
                            "0");
            List<Long> other = c.sync()
                    .eval(
                            RedisRegisters.WRITE.text(),
                            io.lettuce.core.ScriptOutputType.MULTI,
                            keys,
                            "0",
                            "AAI=",
                            "write-2",
                            "",
                            "0");
            assertThat(first).as("the first write").containsExactly(1L, 1L);
            assertThat(again).as("the same write, sent again").containsExactly(1L, 1L);
            assertThat(other).as("another write from version 0").containsExactly(0L, 1L);
            assertThat(c.sync().hget(key, "d")).as("the value kept").isEqualTo("AAE=");
        });
    }
}
