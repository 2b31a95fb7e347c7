package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.AccessRules;
import io.holdfast.endpoint.Tokens;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast token}, {@code holdfast auth} and the server's access-control options, used the
 * way an operator would: a TLS node with rules and a token secret, and the CLI's exit codes.
 */
class AuthCommandTest {
    static final String RULES = """
            user app  jobs
            user ops  root
            role jobs acquire jobs/* read jobs/*
            role root admin *
            """;

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

    private Path secret() throws Exception {
        Path secret = dir.resolve("token.secret");
        Files.writeString(secret, "0123456789abcdef0123456789abcdef0123456789abcdef\n");
        return secret;
    }

    @Test
    void tokensAndRuleChangesThroughTheCli() throws Exception {
        assertThat(run("certs", "--out", dir.toString(), "--clients", "ops,app"))
                .isZero();
        Path rules = dir.resolve("rules.txt");
        Files.writeString(rules, RULES);
        int raftPort;
        raftPort = io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
        ServerConfig config = ServerConfig.single(dir.resolve("data"), "127.0.0.1", 0, raftPort, -1)
                .withTls(
                        new TlsFiles(dir.resolve("n1.pem"), dir.resolve("n1-key.pem"), dir.resolve("ca.pem")),
                        TlsFiles.ClientAuth.OPTIONAL)
                .withAuth(new ServerConfig.Auth(AccessRules.parse(RULES), Tokens.fromFile(secret())));
        try (HoldfastServer server = HoldfastServer.start(config)) {
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> server.parts().machine().read(io.holdfast.core.LockTable::accessRules) != null);
            String members = "holdfast://127.0.0.1:" + server.clientPort() + "?ca=" + dir.resolve("ca.pem");

            assertThat(run("token", "--secret", secret().toString(), "--identity", "app", "--ttl", "10m"))
                    .as(err.toString())
                    .isZero();
            Path token = dir.resolve("app.token");
            Files.writeString(token, out.toString());
            String app = members + "&token-file=" + token;

            assertThat(run("lock", "jobs/nightly", "--backend", app, "--", "true"))
                    .as(err.toString())
                    .isZero();
            assertThat(run("lock", "other/x", "--backend", app, "--", "true")).isEqualTo(ExitCodes.NO_PERMISSION);
            assertThat(err.toString().lines()).singleElement().asString().contains("may not acquire other/x");
            assertThat(run("lock", "jobs/x", "--backend", members, "--", "true"))
                    .as("no certificate, no token")
                    .isEqualTo(ExitCodes.NO_PERMISSION);

            Path wider = dir.resolve("wider.txt");
            Files.writeString(wider, RULES.replace("read jobs/*", "read jobs/* acquire other/*"));
            assertThat(run("auth", wider.toString(), "--backend", app))
                    .as("app is no admin")
                    .isEqualTo(ExitCodes.NO_PERMISSION);
            String ops = members + "&cert=" + dir.resolve("ops.pem") + "&key=" + dir.resolve("ops-key.pem");
            assertThat(run("auth", wider.toString(), "--backend", ops))
                    .as(err.toString())
                    .isZero();
            assertThat(run("lock", "other/x", "--backend", app, "--", "true"))
                    .as(err.toString())
                    .isZero();

            Path typo = dir.resolve("typo.txt");
            Files.writeString(typo, "user app jobs\nrole jobs aquire jobs/*\n");
            assertThat(run("auth", typo.toString(), "--backend", ops)).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("line 2").contains("unknown verb 'aquire'");

            String jti = Tokens.readUnchecked(Files.readString(token)).jti();
            assertThat(run("token", "revoke", "--token-file", token.toString(), "--backend", app))
                    .as("app is no admin")
                    .isEqualTo(ExitCodes.NO_PERMISSION);
            assertThat(run("token", "revoke", "--token-file", token.toString(), "--backend", ops))
                    .as(err.toString())
                    .isZero();
            assertThat(out.toString()).startsWith("Revoked the token " + jti + " of app: every node refuses it");
            assertThat(run("lock", "jobs/nightly", "--backend", app, "--", "true"))
                    .isEqualTo(ExitCodes.NO_PERMISSION);
            assertThat(err.toString().lines())
                    .singleElement()
                    .asString()
                    .contains("the bearer token of app (jti " + jti + ") is revoked");
            assertThat(run("token", "revoke", "not-a-token", "--backend", ops)).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString().lines()).singleElement().asString().contains("the token is not a JWT");
        }
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    @Test
    void badAuthOptionsAreOneLine() throws Exception {
        assertThat(run("token", "--secret", dir.resolve("missing").toString(), "--identity", "a"))
                .isEqualTo(ExitCodes.USAGE);
        Path short_ = dir.resolve("short");
        Files.writeString(short_, "too short");
        assertThat(run("token", "--secret", short_.toString(), "--identity", "a"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("at least 32");
        assertThat(run("token")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("needs --secret FILE and --identity");

        assertThat(run("server", "--data-dir", dir.resolve("d").toString(), "--auth-rules", "rules.txt"))
                .as("access control without TLS")
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("needs TLS");

        assertThat(run("certs", "--out", dir.toString())).isZero();
        Path bad = dir.resolve("bad-rules.txt");
        Files.writeString(bad, "user a nobody\n");
        String[] tls = {
            "server",
            "--data-dir",
            dir.resolve("d").toString(),
            "--tls-cert",
            dir.resolve("n1.pem").toString(),
            "--tls-key",
            dir.resolve("n1-key.pem").toString(),
            "--tls-ca",
            dir.resolve("ca.pem").toString()
        };
        assertThat(run(concat(tls, "--auth-rules", bad.toString()))).isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString().lines()).singleElement().asString().contains("role nobody");
        assertThat(run(concat(tls, "--token-jwks", dir.resolve("no-jwks.json").toString())))
                .as("a JWKS without issuer and audience")
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .contains("--token-jwks needs --token-issuer and --token-audience");
        assertThat(run(concat(
                        tls,
                        "--token-jwks",
                        dir.resolve("no-jwks.json").toString(),
                        "--token-issuer",
                        "https://idp",
                        "--token-audience",
                        "holdfast")))
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .contains("cannot read the JWKS " + dir.resolve("no-jwks.json") + ": no such file");
        assertThat(run(concat(tls, "--token-secret", secret().toString(), "--token-algorithms", "HS256,none")))
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString().lines()).singleElement().asString().contains("not 'none'");
        assertThat(run("server", "--data-dir", dir.resolve("d").toString(), "--token-issuer", "x"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("need --token-secret or --token-jwks");
    }
}
