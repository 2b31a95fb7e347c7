package io.holdfast.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {
    @TempDir
    Path dir;

    @Test
    void issuesCertificatesSignedByTheCaWithTheHostsAsAlternativeNames() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
        CertificateAuthority.Issued node =
                ca.issue("n1", List.of("127.0.0.1", "localhost", "::1"), Duration.ofHours(1));

        X509Certificate cert = node.certificate();
        cert.verify(ca.certificate().getPublicKey());
        cert.checkValidity();
        assertThat(cert.getSubjectX500Principal().getName()).contains("CN=n1");
        assertThat(cert.getIssuerX500Principal()).isEqualTo(ca.certificate().getSubjectX500Principal());
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(ca.certificate().getBasicConstraints()).isGreaterThanOrEqualTo(0);
        Set<String> sans = cert.getSubjectAlternativeNames().stream()
                .map(l -> l.get(1).toString())
                .collect(Collectors.toSet());
        assertThat(sans).contains("127.0.0.1", "localhost");
        assertThat(sans).anyMatch(s -> s.startsWith("0:0:0:0:0:0:0:1"));
        assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    }

    @Test
    void aCertificateFromAnotherCaDoesNotVerify() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("a", Duration.ofDays(1));
        CertificateAuthority other = CertificateAuthority.create("b", Duration.ofDays(1));
        X509Certificate cert =
                other.issue("client", List.of(), Duration.ofHours(1)).certificate();
        assertThatThrownBy(() -> cert.verify(ca.certificate().getPublicKey())).isInstanceOf(SignatureException.class);
    }

    @Test
    void writesPemFilesThatLoadBackAndKeepsKeysPrivate() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
        List<Path> caFiles = ca.write(dir);
        List<Path> clientFiles =
                ca.issue("client", List.of(), Duration.ofHours(1)).write(dir, "client");

        assertThat(caFiles).containsExactly(dir.resolve("ca.pem"), dir.resolve("ca-key.pem"));
        assertThat(clientFiles).containsExactly(dir.resolve("client.pem"), dir.resolve("client-key.pem"));
        assertThat(Files.readString(dir.resolve("client-key.pem"))).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(Files.getPosixFilePermissions(dir.resolve("client-key.pem")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.getPosixFilePermissions(dir.resolve("ca-key.pem")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        CertificateAuthority loaded = CertificateAuthority.load(caFiles.get(0), caFiles.get(1));
        assertThat(loaded.certificate()).isEqualTo(ca.certificate());
        X509Certificate again =
                loaded.issue("n2", List.of("127.0.0.1"), Duration.ofHours(1)).certificate();
        again.verify(ca.certificate().getPublicKey());
        CertificateAuthority.readCertificate(clientFiles.get(0))
                .verify(ca.certificate().getPublicKey());
    }

    @Test
    void refusesBadNamesHostsAndFiles() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
        assertThatThrownBy(() -> ca.issue("../x", List.of(), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'../x'");
        assertThatThrownBy(() -> ca.issue("n1", List.of("bad host"), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bad host'");
        assertThatThrownBy(() -> ca.issue("n1", List.of(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("positive");
        Files.writeString(dir.resolve("junk.pem"), "not a pem");
        assertThatThrownBy(() -> CertificateAuthority.readCertificate(dir.resolve("junk.pem")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("junk.pem holds no '-----BEGIN CERTIFICATE-----' block");
        assertThatThrownBy(() -> CertificateAuthority.load(dir.resolve("missing.pem"), dir.resolve("missing-key.pem")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot read");
        List<Path> leaf = ca.issue("client", List.of(), Duration.ofHours(1)).write(dir, "client");
        assertThatThrownBy(() -> CertificateAuthority.load(leaf.get(0), leaf.get(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a CA certificate");
    }
}
