package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.tls.CertificateAuthority;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code holdfast certs}, and the files it makes used by {@code holdfast server} and {@code holdfast lock}. */
class CertsCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path dir;

    private int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(args);
    }

    @Test
    void makesACaAndCertificatesAndKeepsTheCaOnTheNextRun() throws Exception {
        Path certs = dir.resolve("certs");
        assertThat(run("certs", "--out", certs.toString(), "--nodes", "n1,n2", "--clients", "app"))
                .as(err.toString())
                .isZero();
        for (String f :
                new String[] {"ca.pem", "ca-key.pem", "n1.pem", "n1-key.pem", "n2.pem", "app.pem", "app-key.pem"}) {
            assertThat(certs.resolve(f)).isRegularFile();
        }
        assertThat(out.toString()).contains("--tls-cert " + certs.resolve("n1.pem"));
        String ca = Files.readString(certs.resolve("ca.pem"));

        assertThat(run("certs", "--out", certs.toString(), "--nodes", "n3", "--clients", "ops"))
                .isZero();
        assertThat(out.toString()).contains("Using the CA in");
        assertThat(Files.readString(certs.resolve("ca.pem"))).isEqualTo(ca);
        CertificateAuthority.readCertificate(certs.resolve("n3.pem"))
                .verify(CertificateAuthority.readCertificate(certs.resolve("ca.pem"))
                        .getPublicKey());
    }

    @Test
    void badInputIsOneLineAndExit64() {
        assertThat(run("certs", "--out", dir.toString(), "--nodes", "../evil")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("'../evil'");
        assertThat(run("certs", "--out", dir.toString(), "--days", "0")).isEqualTo(ExitCodes.USAGE);
        assertThat(run("certs", "--out", dir.toString(), "--hosts", "not a host"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("'not a host'");
    }

    @Test
    void theServerRefusesHalfATlsSetupAndMissingFilesInOneLine() throws Exception {
        assertThat(run("server", "--data-dir", dir.resolve("d").toString(), "--tls-cert", "x.pem"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .contains("TLS needs all three of --tls-cert, --tls-key and --tls-ca");

        assertThat(run("certs", "--out", dir.toString())).isZero();
        Files.delete(dir.resolve("n1-key.pem"));
        int port;
        port = io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
        assertThat(run(
                        "server",
                        "--data-dir",
                        dir.resolve("d").toString(),
                        "--client-port",
                        "0",
                        "--raft-port",
                        String.valueOf(port),
                        "--http-port",
                        "-1",
                        "--tls-cert",
                        dir.resolve("n1.pem").toString(),
                        "--tls-key",
                        dir.resolve("n1-key.pem").toString(),
                        "--tls-ca",
                        dir.resolve("ca.pem").toString()))
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast server: TLS private key ")
                .endsWith("n1-key.pem does not exist");
    }

    @Test
    void holdfastLockRunsOverTlsWithTheFiles() throws Exception {
        assertThat(run("certs", "--out", dir.toString(), "--clients", "app")).isZero();
        int raftPort;
        raftPort = io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
        ServerConfig config = ServerConfig.single(dir.resolve("data"), "127.0.0.1", 0, raftPort, -1)
                .withTls(
                        new TlsFiles(dir.resolve("n1.pem"), dir.resolve("n1-key.pem"), dir.resolve("ca.pem")),
                        TlsFiles.ClientAuth.REQUIRE);
        try (HoldfastServer server = HoldfastServer.start(config)) {
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(20))
                    .until(server::isLeader);
            String members = "holdfast://127.0.0.1:" + server.clientPort();
            String tls = members + "?ca=" + dir.resolve("ca.pem") + "&cert=" + dir.resolve("app.pem") + "&key="
                    + dir.resolve("app-key.pem");

            assertThat(run("lock", "tls-job", "--backend", tls, "--", "true"))
                    .as(err.toString())
                    .isZero();
            // Refusals (plaintext, another CA, no client certificate) are TlsTest's, in holdfast-server:
            // here the client would retry them for its default 30 s.
        }
    }
}
