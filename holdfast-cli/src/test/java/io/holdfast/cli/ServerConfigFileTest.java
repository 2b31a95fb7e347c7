package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast server}'s options from a configuration file and the environment, and their
 * precedence (command line, environment, file, default). A data directory that cannot be made
 * ({@code /proc/…}) stops the node with one line naming it: that line shows which value won.
 */
class ServerConfigFileTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Map<String, String> env, String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env)
                .execute(args);
    }

    private Path config(String text) throws Exception {
        Path f = dir.resolve("holdfast.properties");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void theFileSetsOptionsAndTheEnvironmentAndTheCommandLineOverrideIt() throws Exception {
        Path file = config("data-dir = /proc/from-file\nhttp-port = -1\nclient-port = 0\nraft-port = 0\n");

        assertThat(run(Map.of(), "server", "--config", file.toString()))
                .as(err::toString)
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString()).contains("/proc/from-file").doesNotContain("/proc/from-env");

        err.getBuffer().setLength(0);
        Map<String, String> env = Map.of("HOLDFAST_DATA_DIR", "/proc/from-env", "HOLDFAST_CONFIG", file.toString());
        assertThat(run(env, "server")).as(err::toString).isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString()).contains("/proc/from-env").doesNotContain("/proc/from-file");

        err.getBuffer().setLength(0);
        assertThat(run(env, "server", "--data-dir", "/proc/from-flag"))
                .as(err::toString)
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString()).contains("/proc/from-flag").doesNotContain("/proc/from-env");
        assertThat(err.toString().lines()).hasSize(1);
    }

    @Test
    void theRaftTransportIsGrpcOrNettyAndNettyComesWithoutTls() throws Exception {
        String data = dir.resolve("d").toString();
        assertThat(run(Map.of("HOLDFAST_RAFT_TRANSPORT", "quic"), "server", "--data-dir", data))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .endsWith("the Raft transport is grpc or netty, not 'quic'");

        err.getBuffer().setLength(0);
        Path file = config("raft-transport = netty\ntls-cert = n1.pem\ntls-key = n1-key.pem\ntls-ca = ca.pem\n");
        assertThat(run(Map.of(), "server", "--config", file.toString(), "--data-dir", data))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .endsWith("the netty Raft transport has no TLS (Ratis 3.3.0; RATIS-2634): members with TLS on talk"
                        + " Raft over grpc (--raft-transport grpc)");
    }

    @Test
    void aMisspeltSettingIsRefusedNamingIt() throws Exception {
        Path file = config("client-prot = 4653\n");
        assertThat(run(Map.of(), "server", "--config", file.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .contains("'client-prot'")
                .contains("client-port");
    }

    @Test
    void aBadValueFromTheEnvironmentIsAUsageErrorNamingTheOption() {
        assertThat(run(Map.of("HOLDFAST_HTTP_PORT", "eighty"), "server")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--http-port").contains("eighty");
        assertThat(err.toString().lines()).hasSize(1);
    }

    @Test
    void aMissingFileIsOneLine() {
        assertThat(run(
                        Map.of(),
                        "server",
                        "--config",
                        dir.resolve("nope.properties").toString()))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("nope.properties");
    }

    @Test
    void helpExplainsEveryOptionAndTheConfiguration() {
        assertThat(run(Map.of(), "server", "--help")).isZero();
        assertThat(out.toString())
                .contains("--config=FILE")
                .contains("HOLDFAST_CLIENT_PORT")
                .contains("--log-format")
                .contains("--auth-rules")
                .contains("--tls-client-auth");
    }
}
