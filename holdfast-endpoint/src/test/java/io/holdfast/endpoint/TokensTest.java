package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.holdfast.PermissionDeniedException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The attacks on bearer tokens, each refused with one line naming its cause, and key rotation
 * through a JWKS that a loopback HTTP server serves (the provider's side of a rotation: a key
 * added, tokens of the new key, the old key removed).
 */
class TokensTest {
    private static final String ISSUER = "https://idp.example";
    private static final String AUDIENCE = "holdfast";
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final Duration REFRESH = Duration.ofMinutes(5);
    private static final Duration MIN_GAP = Duration.ofSeconds(10);

    private static RSAKey rsaA;
    private static RSAKey rsaB;
    private static ECKey ecC;
    private static HttpServer provider;
    private static final AtomicReference<String> served = new AtomicReference<>();
    private static final AtomicLong requests = new AtomicLong();

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @BeforeAll
    static void keys() throws Exception {
        rsaA = new RSAKeyGenerator(2048).keyID("a").generate();
        rsaB = new RSAKeyGenerator(2048).keyID("b").generate();
        ecC = new ECKeyGenerator(Curve.P_256).keyID("c").generate();
        provider = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        provider.createContext("/jwks.json", ex -> {
            requests.incrementAndGet();
            byte[] body = served.get().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        provider.start();
    }

    @AfterAll
    static void stop() {
        provider.stop(0);
    }

    private static String url() {
        return "http://127.0.0.1:" + provider.getAddress().getPort() + "/jwks.json";
    }

    private static void serve(JWK... keys) {
        served.set(new JWKSet(List.of(keys)).toString(true)); // public parts only
    }

    private Tokens tokens() {
        serve(rsaA, ecC);
        return provider().build();
    }

    /** Tokens of the test's provider: its JWKS, issuer and audience, on the fixed clock. */
    private Tokens.Builder provider() {
        return Tokens.builder()
                .jwks(JwksKeys.load(url(), REFRESH, MIN_GAP, nanos::get))
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .clock(CLOCK);
    }

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .subject("alice")
                .jwtID(UUID.randomUUID().toString())
                .issueTime(Date.from(NOW.minusSeconds(60)))
                .expirationTime(Date.from(NOW.plusSeconds(600)));
    }

    private static String rs256(RSAKey key, JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static String es256(ECKey key, String kid, JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    /** Refused with one line that says {@code why}. */
    private static void refused(Tokens tokens, String token, String why) {
        assertThatThrownBy(() -> tokens.check(token))
                .isInstanceOf(PermissionDeniedException.class)
                .hasMessageContaining(why)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void goodTokensOfEitherAlgorithmNameTheirSubject() throws Exception {
        Tokens tokens = tokens();
        JWTClaimsSet claims = claims().build();
        assertThat(tokens.check(rs256(rsaA, claims)))
                .isEqualTo(new Tokens.Verified("alice", claims.getJWTID(), NOW.plusSeconds(600)));
        assertThat(tokens.verify(es256(ecC, "c", claims))).isEqualTo("alice");
    }

    @Test
    void algNoneIsRefused() {
        Tokens tokens = tokens();
        refused(tokens, new PlainJWT(claims().build()).serialize(), "is not signed (alg: none)");
    }

    @Test
    void hmacUnderTheProvidersPublicKeyIsRefused() throws Exception {
        byte[] publicKey = rsaA.toRSAPublicKey().getEncoded(); // what an attacker can download
        SignedJWT forged = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("a").build(), claims().build());
        forged.sign(new MACSigner(publicKey));
        refused(
                tokens(),
                forged.serialize(),
                "is signed with HS256, which this server does not accept (it accepts" + " RS256, ES256)");
        // With HS256 on too, an HS256 token is checked with the secret only, never a key of the set.
        byte[] secret = new byte[48];
        new SecureRandom().nextBytes(secret);
        Tokens both = provider().secret(secret).build();
        refused(both, forged.serialize(), "the bearer token's signature is not valid");
    }

    @Test
    void expiredWrongAudienceWrongIssuerAndNotYetValidAreRefused() throws Exception {
        Tokens tokens = tokens();
        refused(
                tokens,
                rs256(
                        rsaA,
                        claims().expirationTime(Date.from(NOW.minusSeconds(31))).build()),
                "the bearer token of alice expired at 2026-03-01T11:59:29Z");
        refused(
                tokens,
                rs256(rsaA, claims().audience("billing").build()),
                "the bearer token's audience is [billing], without 'holdfast'");
        refused(
                tokens,
                rs256(rsaA, claims().issuer("https://evil.example").build()),
                "the bearer token's issuer is 'https://evil.example', not 'https://idp.example'");
        refused(
                tokens,
                rs256(
                        rsaA,
                        claims().notBeforeTime(Date.from(NOW.plusSeconds(600))).build()),
                "is not valid before");
        refused(tokens, rs256(rsaA, claims().expirationTime(null).build()), "has no expiry");
    }

    @Test
    void unknownKeysAndKeysOfAnotherTypeAreRefused() throws Exception {
        Tokens tokens = tokens();
        RSAKey stranger = new RSAKey.Builder(rsaB).keyID("z").build();
        refused(tokens, rs256(stranger, claims().build()), "the bearer token's key 'z' is not in the JWKS " + url());
        refused(tokens, es256(ecC, "a", claims().build()), "the key 'a' of the JWKS is RSA, not a key for ES256");
        // Signed by the right kind of key but not the one its kid names.
        refused(tokens, rs256(new RSAKey.Builder(rsaB).keyID("a").build(), claims().build()), "signature is not valid");
        SignedJWT noKid = new SignedJWT(new JWSHeader(JWSAlgorithm.RS256), claims().build());
        noKid.sign(new RSASSASigner(rsaA));
        refused(tokens, noKid.serialize(), "names no key (it has no kid)");
    }

    @Test
    void onlyTheConfiguredAlgorithmsAreAccepted() throws Exception {
        serve(rsaA, ecC);
        Tokens rsaOnly = provider().algorithms("RS256").build();
        refused(
                rsaOnly,
                es256(ecC, "c", claims().build()),
                "is signed with ES256, which this server does not accept (it accepts RS256)");
        assertThat(rsaOnly.verify(rs256(rsaA, claims().build()))).isEqualTo("alice");
    }

    @Test
    void theIdentityComesFromTheConfiguredClaim() throws Exception {
        serve(rsaA);
        Tokens byEmail = provider().identityClaim("email").build();
        assertThat(byEmail.verify(
                        rs256(rsaA, claims().claim("email", "alice@example.com").build())))
                .isEqualTo("alice@example.com");
        refused(byEmail, rs256(rsaA, claims().build()), "names no identity in its claim 'email'");
    }

    @Test
    void aRotationKeepsAGoodClientServed() throws Exception {
        Tokens tokens = tokens();
        String oldToken = rs256(rsaA, claims().build());
        assertThat(tokens.verify(oldToken)).isEqualTo("alice");
        // The provider adds key b and starts signing with it: its first token makes the set be read at once.
        serve(rsaA, rsaB, ecC);
        nanos.addAndGet(MIN_GAP.toNanos());
        String newToken = rs256(rsaB, claims().build());
        assertThat(tokens.verify(newToken)).isEqualTo("alice");
        assertThat(tokens.verify(oldToken)).isEqualTo("alice");
        // The provider removes key a: refused once the set is read again, the new key still served.
        serve(rsaB, ecC);
        nanos.addAndGet(REFRESH.toNanos());
        refused(tokens, oldToken, "the bearer token's key 'a' is not in the JWKS");
        assertThat(tokens.verify(newToken)).isEqualTo("alice");
    }

    @Test
    void madeUpKeyIdsCannotMakeTheServerHammerTheProvider() throws Exception {
        Tokens tokens = tokens();
        nanos.addAndGet(MIN_GAP.toNanos());
        long before = requests.get();
        for (int i = 0; i < 50; i++) {
            refused(tokens, es256(ecC, "random-" + i, claims().build()), "is not in the JWKS");
        }
        assertThat(requests.get() - before)
                .as("reads for 50 unknown kids within 10 s")
                .isEqualTo(1);
        nanos.addAndGet(MIN_GAP.toNanos());
        refused(tokens, es256(ecC, "random-again", claims().build()), "is not in the JWKS");
        assertThat(requests.get() - before).isEqualTo(2);
    }

    @Test
    void ownHs256TokensStayForSmallSetups() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        Tokens tokens = Tokens.withSecret(secret, CLOCK);
        Tokens.Verified v = tokens.check(tokens.issue("alice", Duration.ofMinutes(5)));
        assertThat(v.identity()).isEqualTo("alice");
        assertThat(v.jti()).isNotBlank();
        byte[] other = secret.clone();
        other[0] ^= 1;
        refused(
                Tokens.withSecret(other, CLOCK),
                tokens.issue("alice", Duration.ofMinutes(5)),
                "signature is not valid");
    }
}
