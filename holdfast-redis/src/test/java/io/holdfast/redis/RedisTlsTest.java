package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.testkit.SecuredStoreChecks;
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

    private static SecuredStoreChecks.Certificates certs;
    private static TlsRedis redis;

    @BeforeAll
    static void start() {
        certs = SecuredStoreChecks.Certificates.write(
                Path.of("target", "redis-tls-certs").toAbsolutePath(), List.of("127.0.0.1", "localhost"));
        redis = TlsRedis.startOrSkip(certs.server(), certs.serverKey(), certs.ca());
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

    @Test
    void aClientWithTheCaAndItsCertificateLocksOverTls() throws Exception {
        SecuredStoreChecks.twoClientsExcludeEachOther(uri(certs.clientQuery(certs.ca())), OPTIONS, "tls/x");
    }

    @Test
    void aServerSignedByAnotherCaIsRefusedInOneLine() {
        SecuredStoreChecks.openIsRefusedInOneLine(
                uri(certs.clientQuery(certs.otherCa())),
                OPTIONS,
                "127.0.0.1:" + redis.port(),
                "unable to find valid certification path");
    }

    @Test
    void withoutAClientCertificateRedisRefusesTheClient() {
        SecuredStoreChecks.openIsRefusedInOneLine(
                uri("ca=" + certs.ca()), OPTIONS, "127.0.0.1:" + redis.port(), "certificate_required");
    }

    @Test
    void thePlainSchemeCannotTalkToTheTlsPortAndFilesAreChecked() {
        assertThatThrownBy(() -> LockClient.open("redis://127.0.0.1:" + redis.port(), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class);
        assertThatThrownBy(() -> LockClient.open(uri("ca=/no/such/ca.pem"), OPTIONS))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("/no/such/ca.pem");
        assertThatThrownBy(() -> LockClient.open("redis://127.0.0.1:" + redis.port() + "?ca=" + certs.ca(), OPTIONS))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("rediss://");
    }
}
