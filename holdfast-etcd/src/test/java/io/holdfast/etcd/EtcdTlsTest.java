package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
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
 * {@code etcds://}: a real etcd serving TLS with a certificate from a test CA and asking for client
 * certificates ({@code --client-cert-auth}). A client with the CA and its own certificate locks
 * there; one that does not trust the server's CA, or brings no certificate, is refused with the
 * reason, and the plain scheme cannot talk to the TLS port.
 */
class EtcdTlsTest {
    // 10 s to connect: a refused handshake is answered at once, but on a CI machine at load 44 the
    // 3 s this had ran out first and the refusal's reason was not seen (2026-11-29)
    private static final ClientOptions OPTIONS = ClientOptions.builder()
            .connectTimeout(Duration.ofSeconds(10))
            .requestTimeout(Duration.ofSeconds(5))
            .build();

    private static SecuredStoreChecks.Certificates certs;
    private static EtcdServer etcd;

    @BeforeAll
    static void start() {
        certs = SecuredStoreChecks.Certificates.write(
                Path.of("target", "etcd-tls").toAbsolutePath(), List.of("127.0.0.1", "localhost"));
        etcd = EtcdServer.startTlsOrSkip(certs.server(), certs.serverKey(), certs.ca());
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.stop();
        }
    }

    private static String uri(String query) {
        return "etcds://127.0.0.1:" + etcd.tlsPort() + "?" + query;
    }

    @Test
    void aClientWithTheCaAndItsCertificateLocksOverTls() throws Exception {
        SecuredStoreChecks.twoClientsExcludeEachOther(uri(certs.clientQuery(certs.ca())), OPTIONS, "tls/x");
    }

    @Test
    void aServerSignedByAnotherCaIsRefused() {
        SecuredStoreChecks.openIsRefusedInOneLine(
                uri(certs.clientQuery(certs.otherCa())),
                OPTIONS,
                "127.0.0.1:" + etcd.tlsPort(),
                "unable to find valid certification path");
    }

    @Test
    void withoutAClientCertificateEtcdRefusesTheClient() {
        SecuredStoreChecks.openIsRefusedInOneLine(
                uri("ca=" + certs.ca()), OPTIONS, "127.0.0.1:" + etcd.tlsPort(), "bad_certificate");
    }

    @Test
    void thePlainSchemeCannotTalkToTheTlsPort() {
        assertThatThrownBy(() -> LockClient.open("etcd://127.0.0.1:" + etcd.tlsPort(), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class);
    }
}
