package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Client;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.UnavailableException;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the contract suite does not reach: opening, the retry rule of the backend, a lost session. */
class EtcdProviderTest {
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

    @Test
    void anUnreachableEtcdIsUnavailableAtOnceNamingTheRefusal() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        long start = System.nanoTime();
        assertThatThrownBy(() -> LockClient.open("etcd://127.0.0.1:" + port, connectWithin1s()))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("connection refused");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void anEtcdThatNeverAnswersIsUnavailableWithinTheConnectTimeout() throws Exception {
        // Accepts connections (the kernel completes them) and never answers a byte.
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            String where = "127.0.0.1:" + silent.getLocalPort();
            long start = System.nanoTime();
            assertThatThrownBy(() -> LockClient.open("etcd://" + where, connectWithin1s()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(where)
                    .hasMessageContaining("1000 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("the connect timeout (1 s) bounds opening, not the request timeout (20 s)")
                    .isLessThan(Duration.ofSeconds(6));
        }
    }

    /** A request timeout far above the connect timeout: opening must be bounded by the latter. */
    private static ClientOptions connectWithin1s() {
        return ClientOptions.builder()
                .requestTimeout(Duration.ofSeconds(20))
                .connectTimeout(Duration.ofSeconds(1))
                .build();
    }

    @Test
    void badUrisAreRefusedWithTypedExceptions() {
        assertThatThrownBy(() -> LockClient.open("etcd://127.0.0.1:99999", ClientOptions.defaults()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("99999");
        assertThatThrownBy(() -> LockClient.open("etcds://127.0.0.1:2379?ca=/no/such/ca.pem", ClientOptions.defaults()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("/no/such/ca.pem");
    }

    /**
     * The client retries an attempt whose answer was lost with the same owner: the backend must find
     * the key it already made instead of queueing a second one behind it.
     */
    @Test
    void aRetriedAttemptWithTheSameOwnerFindsItsOwnKey() {
        ClientOptions options = ClientOptions.builder().clientName("retry").build();
        EtcdBackend backend =
                new EtcdBackend(Client.builder().endpoints(endpoint()).build(), EtcdUri.parse(etcd.uri()), options);
        try (LockClient observer = LockClient.open(etcd.uri(), options)) {
            String name = "provider-test/retry";
            LockRequest request = new LockRequest(
                    new LeaseRequest(name, LockMode.EXCLUSIVE, 1, 1),
                    backend.sessionId() + ":1",
                    Duration.ofSeconds(10),
                    false);
            Grant first = backend.tryAcquire(request).orElseThrow();
            Grant again = backend.tryAcquire(request).orElseThrow();
            assertThat(again.token()).isGreaterThanOrEqualTo(first.token());
            LockInfo info = observer.admin().describe(name).orElseThrow();
            assertThat(info.holders()).hasSize(1);
            assertThat(info.waiters()).isEmpty();
            assertThat(observer.admin().isCurrentHolder(name, again.token())).isTrue();
            assertThat(backend.release(again)).isTrue();
            assertThat(backend.release(again)).as("a second release").isFalse();
            assertThat(observer.admin().describe(name)).isEmpty();
        } finally {
            backend.close();
        }
    }

    /**
     * etcd stays down longer than the session TTL: the holder is told its lease was lost, and once
     * etcd is back the same client gets a new session and can lock again, with a larger token.
     */
    @Test
    void aSessionLostWhileEtcdWasDownIsReportedAndReplaced() throws Exception {
        ClientOptions options = ClientOptions.builder()
                .sessionTtl(Duration.ofSeconds(2))
                .requestTimeout(Duration.ofSeconds(3))
                .build();
        try (LockClient client = LockClient.open(etcd.uri(), options)) {
            Lease lease = client.lock("provider-test/outage").acquire(Duration.ofSeconds(5));
            AtomicReference<Exception> lost = new AtomicReference<>();
            lease.onLost(lost::set);
            etcd.stop();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> lost.get() != null);
                assertThat(lease.isValid()).isFalse();
            } finally {
                etcd.start();
            }
            Lease again = Awaitility.await("a grant after etcd came back")
                    .atMost(Duration.ofSeconds(30))
                    .pollDelay(Duration.ZERO)
                    .ignoreException(UnavailableException.class) // etcd is still coming back
                    .until(() -> client.lock("provider-test/outage").acquire(Duration.ofSeconds(10)), l -> l != null);
            assertThat(again.fencingToken()).isGreaterThan(lease.fencingToken());
        }
    }

    private static String endpoint() {
        return "http://" + etcd.uri().substring("etcd://".length());
    }
}
