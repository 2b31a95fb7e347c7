package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.tls.CertificateAuthority;
import java.nio.file.Files;
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
    private static final ClientOptions OPTIONS = ClientOptions.builder()
            .connectTimeout(Duration.ofSeconds(3))
            .requestTimeout(Duration.ofSeconds(5))
            .build();

    private static Path dir;
    private static EtcdServer etcd;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createDirectories(Path.of("target", "etcd-tls")).toAbsolutePath();
        CertificateAuthority ca = CertificateAuthority.create("etcd-test-ca", Duration.ofDays(1));
        ca.write(dir);
        ca.issue("etcd", List.of("127.0.0.1", "localhost"), Duration.ofDays(1)).write(dir, "etcd");
        ca.issue("app", List.of(), Duration.ofDays(1)).write(dir, "app");
        CertificateAuthority.create("other-ca", Duration.ofDays(1)).write(dir.resolve("other"));
        etcd = EtcdServer.startTlsOrSkip(dir.resolve("etcd.pem"), dir.resolve("etcd-key.pem"), dir.resolve("ca.pem"));
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
        String query = "ca=" + dir.resolve("ca.pem") + "&cert=" + dir.resolve("app.pem") + "&key="
                + dir.resolve("app-key.pem");
        try (LockClient a = LockClient.open(uri(query), OPTIONS);
                LockClient b = LockClient.open(uri(query), OPTIONS)) {
            Lease held = a.lock("tls/x").acquire(Duration.ofSeconds(5));
            assertThat(held.fencingToken()).isPositive();
            assertThat(b.lock("tls/x").tryAcquire()).isEmpty();
            held.release();
            assertThat(b.lock("tls/x").tryAcquire()).isPresent();
        }
    }

    @Test
    void aServerSignedByAnotherCaIsRefused() {
        String query = "ca=" + dir.resolve("other/ca.pem") + "&cert=" + dir.resolve("app.pem") + "&key="
                + dir.resolve("app-key.pem");
        assertThatThrownBy(() -> LockClient.open(uri(query), OPTIONS).close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + etcd.tlsPort())
                .hasMessageContaining("unable to find valid certification path")
                .satisfies(e -> assertThat(e.getMessage()).as("one line").doesNotContain("\n"));
    }

    @Test
    void withoutAClientCertificateEtcdRefusesTheClient() {
        assertThatThrownBy(() -> LockClient.open(uri("ca=" + dir.resolve("ca.pem")), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + etcd.tlsPort())
                .hasMessageContaining("bad_certificate");
    }

    @Test
    void thePlainSchemeCannotTalkToTheTlsPort() {
        assertThatThrownBy(() -> LockClient.open("etcd://127.0.0.1:" + etcd.tlsPort(), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class);
    }
}
