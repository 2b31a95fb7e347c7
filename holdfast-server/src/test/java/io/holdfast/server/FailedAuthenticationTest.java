package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.holdfast.PermissionDeniedException;
import io.holdfast.Ticker;
import io.holdfast.core.AccessRules;
import io.holdfast.endpoint.JwksKeys;
import io.holdfast.endpoint.Tokens;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.tls.CertificateAuthority;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Failed authentication leaves a trace (issue 71, item 2): on a node with TLS, access rules, its
 * own token secret and an identity provider's JWKS, each kind of bad credential, over HTTP and
 * gRPC, is refused as before, counted in {@code holdfast_auth_failures_total{reason}}, and logged
 * at WARN once per client and reason (a client that keeps failing is one line, not one per call),
 * without the token. The node serves a good client all along.
 */
class FailedAuthenticationTest {
    private static final String ISSUER = "https://idp.example";
    private static final String RULES =
            "user alice writer\nuser ops root\nrole writer acquire a/* read a/*\nrole root admin *\n";
    private static final String LOGGER = "io.holdfast.endpoint.AuthFailures";

    @TempDir
    Path tmp;

    @Test
    void eachBadCredentialIsCountedByReasonAndLoggedOncePerClientAndReason() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger logger = (Logger) LoggerFactory.getLogger(LOGGER);
        logger.addAppender(log);
        byte[] secret = new byte[48];
        new SecureRandom().nextBytes(secret);
        RSAKey idp = new RSAKeyGenerator(2048).keyID("k1").generate();
        Path jwks = tmp.resolve("jwks.json");
        Files.writeString(jwks, new JWKSet(idp.toPublicJWK()).toString());
        Tokens tokens = Tokens.builder()
                .secret(secret)
                .jwks(JwksKeys.load(jwks.toString(), Duration.ofMinutes(5), Duration.ofSeconds(10), Ticker.system()))
                .issuer(ISSUER)
                .audience("holdfast")
                .build();
        TestTls tls = new TestTls(TlsFiles.ClientAuth.OPTIONAL);
        AccessRules rules = AccessRules.parse(RULES);
        try (TestCluster c = new TestCluster(1, Set.of(), tls, new ServerConfig.Auth(rules, tokens), true)) {
            c.awaitLeader(Duration.ofSeconds(30));
            org.awaitility.Awaitility.await("the rules in force")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> c.allReplicasHave(rules));
            int port = c.node(0).httpPort();
            Tokens own = Tokens.withSecret(secret);
            String good = own.issue("alice", Duration.ofMinutes(10));
            String expired = Tokens.withSecret(secret, Clock.fixed(Instant.now().minusSeconds(3_600), ZoneOffset.UTC))
                    .issue("alice", Duration.ofMinutes(1));
            String forged = Tokens.withSecret(new byte[48]).issue("alice", Duration.ofMinutes(10));
            RSAKey other = new RSAKeyGenerator(2048).keyID("nobody").generate();
            String unknownKey = rs256(other);
            List<String> secrets = List.of("not-a-token", expired, forged, unknownKey);

            for (int i = 0; i < 5; i++) {
                refusedOverHttp(port, tls, "not-a-token");
            }
            refusedOverHttp(port, tls, expired);
            refusedOverHttp(port, tls, forged);
            refusedOverHttp(port, tls, unknownKey);
            refusedOverHttp(port, tls, null); // neither certificate nor token, where the rules require one
            assertThatThrownBy(() -> c.open(tls.tokenQuery(forged)).lock("a/x").tryAcquire())
                    .isInstanceOf(PermissionDeniedException.class);

            // A client certificate from another CA, presented whatever CAs the server names (as a
            // client set on it would): the TLS handshake refuses it, on both ports.
            CertificateAuthority otherCa = CertificateAuthority.create("other-ca", Duration.ofDays(1));
            SSLContext mallory =
                    presenting(otherCa.issue("mallory", List.of(), Duration.ofDays(1)), tls.file("ca.pem"));
            assertThatThrownBy(() -> TestHttp.https(port, mallory).get("/api/v1/whoami"))
                    .isInstanceOf(java.io.IOException.class);
            try (SSLSocket socket = (SSLSocket) mallory.getSocketFactory()
                    .createSocket("127.0.0.1", c.node(0).clientPort())) {
                SSLParameters params = socket.getSSLParameters();
                params.setApplicationProtocols(new String[] {"h2"});
                socket.setSSLParameters(params);
                socket.setSoTimeout(10_000);
                assertThatThrownBy(() -> {
                            socket.startHandshake();
                            socket.getOutputStream().write(1);
                            socket.getOutputStream().flush();
                            socket.getInputStream().read();
                        })
                        .isInstanceOf(java.io.IOException.class);
            }

            // The good client is served all along.
            assertThat(c.open(tls.tokenQuery(good)).lock("a/z").tryAcquire()).isPresent();

            String metrics = TestHttp.https(port, new TlsFiles(null, null, tls.file("ca.pem")).sslContext())
                    .get("/metrics")
                    .body();
            Map<String, Double> samples = ScrapeTimeline.samples(metrics);
            assertThat(samples)
                    .as(metrics)
                    .containsEntry(failures("bad-token"), 5.0)
                    .containsEntry(failures("expired-token"), 1.0)
                    .containsEntry(failures("unknown-key"), 1.0)
                    .containsEntry(failures("no-credentials"), 1.0)
                    .containsEntry(failures("revoked-token"), 0.0);
            assertThat(samples.get(failures("bad-signature")))
                    .as("over HTTP once, and over gRPC once: the session's open (a session's event stream"
                            + " opens at its first acquire, which a refused open never reaches)")
                    .isEqualTo(2.0);
            assertThat(samples.get(failures("refused-certificate"))).as(metrics).isGreaterThanOrEqualTo(2.0);

            List<String> lines = log.list.stream()
                    .filter(e -> e.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage)
                    .toList();
            assertThat(lines)
                    .as("one line per client and reason")
                    .filteredOn(l -> l.contains("(bad-token)"))
                    .singleElement()
                    .asString()
                    .startsWith("Refused authentication from 127.0.0.1 (bad-token): the bearer token is not a JWT");
            for (String reason : List.of("expired-token", "unknown-key", "no-credentials")) {
                assertThat(lines)
                        .filteredOn(l -> l.contains("(" + reason + ")"))
                        .hasSize(1);
            }
            assertThat(lines)
                    .filteredOn(l -> l.contains("(bad-signature)"))
                    .singleElement()
                    .asString()
                    .contains("the bearer token's signature is not valid");
            assertThat(lines)
                    .filteredOn(l -> l.contains("(refused-certificate)"))
                    .isNotEmpty()
                    .allSatisfy(l -> assertThat(l).contains("CN=mallory"));
            assertThat(lines)
                    .as("no token in a line")
                    .allSatisfy(l -> secrets.stream()
                            .filter(s -> s.length() > 20)
                            .forEach(s -> assertThat(l)
                                    .doesNotContain(s)
                                    .doesNotContain(s.substring(s.lastIndexOf('.') + 1))));
        } finally {
            logger.detachAppender(log);
        }
    }

    private static String failures(String reason) {
        return "holdfast_auth_failures_total{node=\"n1\",reason=\"" + reason + "\"}";
    }

    private static void refusedOverHttp(int port, TestTls tls, String token) throws Exception {
        TestHttp http = TestHttp.https(port, new TlsFiles(null, null, tls.file("ca.pem")).sslContext());
        TestHttp.Answer a = (token == null ? http : http.withToken(token)).get("/api/v1/whoami");
        assertThat(a.status()).as(a.body()).isEqualTo(401);
        assertThat(a.json().get("error").get("message").asText()).doesNotContain("\n");
    }

    /** A TLS client context that trusts {@code ca} and always presents {@code cert}. */
    private static SSLContext presenting(CertificateAuthority.Issued cert, Path ca) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("m", cert.key(), new char[0], new Certificate[] {cert.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        X509ExtendedKeyManager base = (X509ExtendedKeyManager) kmf.getKeyManagers()[0];
        X509ExtendedKeyManager always = new X509ExtendedKeyManager() {
            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return "m";
            }

            @Override
            public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
                return "m";
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return base.getCertificateChain("m");
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return base.getPrivateKey("m");
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return new String[] {"m"};
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return null;
            }
        };
        KeyStore cas = KeyStore.getInstance("PKCS12");
        cas.load(null, null);
        cas.setCertificateEntry("ca", CertificateAuthority.readCertificate(ca));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[] {always}, tmf.getTrustManagers(), null);
        return context;
    }

    private static String rs256(RSAKey key) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience("holdfast")
                .subject("alice")
                .jwtID(UUID.randomUUID().toString())
                .expirationTime(Date.from(Instant.now().plusSeconds(600)))
                .build();
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }
}
