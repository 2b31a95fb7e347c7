package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.holdfast.endpoint.Tokens;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.testkit.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Logging that no identity option switches off (issue 71): a {@code holdfast server} process,
 * started from the CLI jar as users start it, with {@code --log-format json} and each way a client
 * can prove who it is (none, client certificates, the cluster's token secret, an identity
 * provider's JWKS). An allowed revoke and a refused one each leave their audit line, a refused
 * credential its WARN line (without the token), the node's INFO lines are there, and every line on
 * stderr is one JSON object.
 *
 * <p>Before the fix, {@code --token-jwks} loaded the key set while the options were read, and
 * {@code JwksKeys}'s logger made logback configure itself then, before the command had set the
 * level and the JSON format: the node logged nothing at INFO, no audit line, and its WARN lines as
 * text.
 */
class LogEveryIdentityTest {
    private static final String ISSUER = "https://idp.example";
    private static final String RULES = "user ops root\nuser app jobs\nrole root admin *\nrole jobs acquire jobs/*\n";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    private static RSAKey idp;
    private static Tokens own;

    @TempDir
    Path dir;

    /** The ways a client proves who it is, as docs/security.md lists them. */
    enum Identity {
        NONE,
        CLIENT_CERTIFICATE,
        TOKEN_SECRET,
        TOKEN_JWKS
    }

    @BeforeAll
    static void certificatesAndKeys() throws Exception {
        Process certs = new ProcessBuilder(ServerProcesses.java(
                        List.of(),
                        "certs",
                        "--out",
                        shared.resolve("certs").toString(),
                        "--nodes",
                        "n1",
                        "--clients",
                        "app,ops",
                        "--hosts",
                        "127.0.0.1,localhost"))
                .redirectErrorStream(true)
                .redirectOutput(shared.resolve("certs.log").toFile())
                .start();
        assertThat(certs.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(certs.exitValue())
                .as(Files.readString(shared.resolve("certs.log")))
                .isZero();
        byte[] secret = new byte[48];
        new java.security.SecureRandom().nextBytes(secret);
        Files.writeString(shared.resolve("token.secret"), Base64.getEncoder().encodeToString(secret) + "\n");
        own = Tokens.withSecret(Tokens.readSecret(shared.resolve("token.secret")));
        idp = new RSAKeyGenerator(2048).keyID("k1").generate();
        Files.writeString(shared.resolve("jwks.json"), new JWKSet(idp.toPublicJWK()).toString());
        Files.writeString(shared.resolve("rules.txt"), RULES);
    }

    @ParameterizedTest
    @EnumSource(Identity.class)
    void auditInfoAndJsonWithEveryIdentityOption(Identity identity) throws Exception {
        int http = FreePorts.next();
        List<String> args = new ArrayList<>(List.of(
                "server",
                "--client-port",
                String.valueOf(FreePorts.next()),
                "--raft-port",
                String.valueOf(FreePorts.next()),
                "--http-port",
                String.valueOf(http),
                "--data-dir",
                dir.resolve("data").toString(),
                "--log-format",
                "json"));
        args.addAll(options(identity));
        Path err = dir.resolve("stderr.log");
        Process server = new ProcessBuilder(ServerProcesses.java(List.of(), args.toArray(String[]::new)))
                .redirectError(err.toFile())
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .start();
        try {
            boolean tls = identity != Identity.NONE;
            String base = (tls ? "https" : "http") + "://127.0.0.1:" + http;
            HttpClient admin = client(identity == Identity.CLIENT_CERTIFICATE ? "ops" : null);
            String adminToken = token(identity, "ops");
            Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                assertThat(server.isAlive()).as(Files.readString(err)).isTrue();
                return revoke(admin, base, adminToken, "jobs/allowed").statusCode() == 200;
            });

            if (tls) {
                HttpClient app = client(identity == Identity.CLIENT_CERTIFICATE ? "app" : null);
                assertThat(revoke(app, base, token(identity, "app"), "jobs/refused")
                                .statusCode())
                        .as("a revoke the rules refuse")
                        .isEqualTo(403);
            }
            // A call whose credential the server refuses.
            assertThat(revoke(admin, base, "not-a-token", "jobs/unauthenticated")
                            .statusCode())
                    .isEqualTo(401);

            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertThat(audit(err))
                            .as("the audit lines in %s", Files.readString(err))
                            .anySatisfy(m -> assertThat(m).contains("name=jobs/allowed", "outcome=\"ok\""))
                            .anySatisfy(m -> assertThat(m)
                                    .contains(tls ? "name=jobs/refused" : "name=jobs/allowed")
                                    .contains(tls ? "PERMISSION_DENIED" : "ok")));
            List<JsonNode> lines = lines(err);
            assertThat(lines)
                    .as("the node's INFO lines")
                    .anyMatch(l -> l.path("level").asText().equals("INFO")
                            && l.path("loggerName").asText().startsWith("io.holdfast"));
            assertThat(lines)
                    .as("the refused credential's WARN line, in JSON like the rest")
                    .anySatisfy(l -> {
                        assertThat(l.path("level").asText()).isEqualTo("WARN");
                        assertThat(l.path("formattedMessage").asText())
                                .startsWith("Refused authentication from 127.0.0.1 (bad-token)")
                                .doesNotContain("not-a-token");
                    });
        } finally {
            server.destroy();
            server.waitFor(30, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
        lines(err); // every line JSON, the shutdown's too
    }

    private static List<String> options(Identity identity) {
        String certs = shared.resolve("certs").toString();
        List<String> tls = List.of(
                "--tls-cert",
                certs + "/n1.pem",
                "--tls-key",
                certs + "/n1-key.pem",
                "--tls-ca",
                certs + "/ca.pem",
                "--auth-rules",
                shared.resolve("rules.txt").toString());
        List<String> all = new ArrayList<>();
        switch (identity) {
            case NONE -> {}
            case CLIENT_CERTIFICATE -> all.addAll(tls);
            case TOKEN_SECRET -> {
                all.addAll(tls);
                all.addAll(
                        List.of("--token-secret", shared.resolve("token.secret").toString()));
            }
            case TOKEN_JWKS -> {
                all.addAll(tls);
                all.addAll(List.of(
                        "--token-jwks",
                        shared.resolve("jwks.json").toString(),
                        "--token-issuer",
                        ISSUER,
                        "--token-audience",
                        "holdfast"));
            }
        }
        return all;
    }

    /** The bearer token of {@code who} for this identity option; null where clients prove themselves otherwise. */
    private static String token(Identity identity, String who) throws Exception {
        return switch (identity) {
            case NONE, CLIENT_CERTIFICATE -> null;
            case TOKEN_SECRET -> own.issue(who, Duration.ofMinutes(10));
            case TOKEN_JWKS -> {
                JWTClaimsSet claims = new JWTClaimsSet.Builder()
                        .issuer(ISSUER)
                        .audience("holdfast")
                        .subject(who)
                        .jwtID(UUID.randomUUID().toString())
                        .expirationTime(Date.from(Instant.now().plusSeconds(600)))
                        .build();
                SignedJWT jwt = new SignedJWT(
                        new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(), claims);
                jwt.sign(new RSASSASigner(idp));
                yield jwt.serialize();
            }
        };
    }

    /** An HTTP client that trusts the test CA and presents {@code certificate}'s certificate (null: none). */
    private static HttpClient client(String certificate) {
        Path certs = shared.resolve("certs");
        TlsFiles files = new TlsFiles(
                certificate == null ? null : certs.resolve(certificate + ".pem"),
                certificate == null ? null : certs.resolve(certificate + "-key.pem"),
                certs.resolve("ca.pem"));
        return HttpClient.newBuilder()
                .sslContext(files.sslContext())
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    private static HttpResponse<String> revoke(HttpClient client, String base, String token, String name)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/api/v1/revoke"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}"));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The messages of the audit lines. */
    private static List<String> audit(Path err) throws IOException {
        return lines(err).stream()
                .filter(l -> l.path("loggerName").asText().equals("holdfast.audit"))
                .map(l -> l.path("formattedMessage").asText())
                .toList();
    }

    /** Every line of stderr, each of which must be one JSON object. */
    private static List<JsonNode> lines(Path err) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(err)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                throw new AssertionError("not a JSON line: " + line, e);
            }
            assertThat(node.isObject()).as("a JSON object: %s", line).isTrue();
            out.add(node);
        }
        return out;
    }
}
