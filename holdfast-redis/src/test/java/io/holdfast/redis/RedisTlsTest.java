package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.tls.CertificateAuthority;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code rediss://}: a real Redis serving TLS only, with a certificate from a test CA and asking
 * for client certificates. A client with the CA and its own certificate locks there; one that does
 * not trust the server's CA, or brings no certificate, is refused with the reason in one line; the
 * plain scheme cannot talk to the TLS port.
 */
class RedisTlsTest {
    private static final ClientOptions OPTIONS = ClientOptions.builder()
            .connectTimeout(Duration.ofSeconds(3))
            .requestTimeout(Duration.ofSeconds(5))
            .build();

    private static Path dir;
    private static TlsRedis redis;

    @BeforeAll
    static void start() {
        dir = Path.of("target", "redis-tls-certs").toAbsolutePath();
        CertificateAuthority ca = CertificateAuthority.create("redis-test-ca", Duration.ofDays(1));
        ca.write(dir);
        ca.issue("redis", List.of("127.0.0.1", "localhost"), Duration.ofDays(1)).write(dir, "redis");
        ca.issue("app", List.of(), Duration.ofDays(1)).write(dir, "app");
        CertificateAuthority.create("other-ca", Duration.ofDays(1)).write(dir.resolve("other"));
        redis = TlsRedis.startOrSkip(dir.resolve("redis.pem"), dir.resolve("redis-key.pem"), dir.resolve("ca.pem"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    private static String uri(String query) {
        return "rediss://127.0.0.1:" + redis.port() + "?" + query;
    }

    private static String mine(String ca) {
        return "ca=" + ca + "&cert=" + dir.resolve("app.pem") + "&key=" + dir.resolve("app-key.pem");
    }

    @Test
    void aClientWithTheCaAndItsCertificateLocksOverTls() throws Exception {
        try (LockClient a = LockClient.open(uri(mine(dir.resolve("ca.pem").toString())), OPTIONS);
                LockClient b = LockClient.open(uri(mine(dir.resolve("ca.pem").toString())), OPTIONS)) {
            Lease held = a.lock("tls/x").acquire(Duration.ofSeconds(5));
            assertThat(held.fencingToken()).isPositive();
            assertThat(b.lock("tls/x").tryAcquire()).isEmpty();
            held.release();
            assertThat(b.lock("tls/x").tryAcquire()).isPresent();
        }
    }

    @Test
    void aServerSignedByAnotherCaIsRefusedInOneLine() {
        assertThatThrownBy(() -> LockClient.open(
                                uri(mine(dir.resolve("other/ca.pem").toString())), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + redis.port())
                .hasMessageContaining("unable to find valid certification path")
                .satisfies(e -> assertThat(e.getMessage()).as("one line").doesNotContain("\n"));
    }

    @Test
    void withoutAClientCertificateRedisRefusesTheClient() {
        assertThatThrownBy(() -> LockClient.open(uri("ca=" + dir.resolve("ca.pem")), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + redis.port())
                .hasMessageContaining("certificate_required");
    }

    @Test
    void thePlainSchemeCannotTalkToTheTlsPortAndFilesAreChecked() {
        assertThatThrownBy(() -> LockClient.open("redis://127.0.0.1:" + redis.port(), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class);
        assertThatThrownBy(() -> LockClient.open(uri("ca=/no/such/ca.pem"), OPTIONS))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("/no/such/ca.pem");
        assertThatThrownBy(() ->
                        LockClient.open("redis://127.0.0.1:" + redis.port() + "?ca=" + dir.resolve("ca.pem"), OPTIONS))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("rediss://");
    }
}
