package io.holdfast.endpoint;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.holdfast.InvalidArgumentException;
import io.holdfast.PermissionDeniedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/**
 * Bearer tokens: JWTs that name one identity and expire. Two kinds of key, either or both:
 *
 * <ul>
 *   <li><b>HS256 under a shared secret</b> that every node of a cluster holds: the tokens {@link
 *       #issue} makes ({@code holdfast token}), with issuer {@value #ISSUER}, the identity in
 *       {@code sub} and a {@code jti}. For small setups.
 *   <li><b>RS256 and ES256 under an identity provider's public keys</b> ({@link JwksKeys}: a JWKS
 *       file or URL, refreshed, rotated keys picked up by their {@code kid}): the token must carry
 *       the configured issuer and audience, and the identity is read from the configured claim.
 * </ul>
 *
 * <p>A token is accepted only if its {@code alg} is one of the algorithms configured ({@link
 * Builder#algorithms}); {@code "alg":"none"}, an encrypted token and every other algorithm are
 * refused. An HS256 token is checked with the secret only, an RS256 token with an RSA key of the
 * set only, an ES256 token with a P-256 EC key of the set only: a key is never used for an algorithm
 * of another type, so a token signed with HMAC under the provider's public key is refused. Then the
 * expiry (required) and not-before, both read from the injected clock with {@link #LEEWAY}.
 *
 * <p>What it does not do: no OpenID Connect discovery (the JWKS location is configured), no
 * encrypted tokens, no other algorithms. Revocation of one token is not here: {@link Authenticator}
 * asks the replicated deny list for the token's {@code jti} ({@link Verified#jti}). Expiry is
 * calendar time: a node whose clock is far off accepts or refuses tokens early or late.
 *
 * <p>Failure story: a token leaks in a CI log. {@code holdfast token revoke} puts its {@code jti} on
 * the cluster's deny list, which every node enforces from the same log entry on; removing its
 * identity's {@code user} line from the access rules refuses every token of that identity.
 */
public final class Tokens {
    /** The {@code iss} of the tokens this class issues. */
    public static final String ISSUER = "holdfast";

    /** The shortest secret accepted, in bytes (HS256 needs at least 256 bits). */
    public static final int MIN_SECRET_BYTES = 32;

    /** How far past its expiry (or before its not-before) a token is still accepted, for clocks that differ a little. */
    public static final Duration LEEWAY = Duration.ofSeconds(30);

    /** The longest token lifetime {@link #issue} makes. */
    public static final Duration MAX_TTL = Duration.ofDays(366);

    /** The algorithms a server may be configured to accept. */
    public static final List<JWSAlgorithm> SUPPORTED =
            List.of(JWSAlgorithm.HS256, JWSAlgorithm.RS256, JWSAlgorithm.ES256);

    /**
     * What a valid token says.
     *
     * @param identity the caller's identity (the configured claim, {@code sub} for HS256 tokens)
     * @param jti the token's id, or null if it has none (then it cannot be revoked one by one)
     * @param expiry when it expires
     */
    public record Verified(String identity, String jti, Instant expiry) {}

    private final byte[] secret;
    private final JwksKeys jwks;
    private final String issuer;
    private final String audience;
    private final String identityClaim;
    private final Set<JWSAlgorithm> algorithms;
    private final Clock clock;

    private Tokens(Builder b) {
        if (b.secret != null && b.secret.length < MIN_SECRET_BYTES) {
            throw new InvalidArgumentException(
                    "a token secret is at least " + MIN_SECRET_BYTES + " bytes, not " + b.secret.length);
        }
        this.secret = b.secret == null ? null : b.secret.clone();
        this.jwks = b.jwks;
        this.clock = b.clock;
        this.identityClaim = b.identityClaim;
        List<JWSAlgorithm> byDefault = jwks == null
                ? List.of(JWSAlgorithm.HS256)
                : secret == null ? List.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256) : SUPPORTED;
        Set<JWSAlgorithm> algs = Set.copyOf(b.algorithms != null ? b.algorithms : byDefault);
        if (secret == null && jwks == null) {
            throw new InvalidArgumentException("bearer tokens need a token secret or a JWKS");
        }
        if (algs.contains(JWSAlgorithm.HS256) && secret == null) {
            throw new InvalidArgumentException("HS256 tokens need a token secret (--token-secret)");
        }
        if ((algs.contains(JWSAlgorithm.RS256) || algs.contains(JWSAlgorithm.ES256)) && jwks == null) {
            throw new InvalidArgumentException("RS256 and ES256 tokens need a JWKS (--token-jwks)");
        }
        if (jwks != null && (b.issuer == null || b.audience == null)) {
            throw new InvalidArgumentException(
                    "tokens checked against a JWKS need the issuer and the audience they must carry"
                            + " (--token-issuer, --token-audience)");
        }
        this.algorithms = algs;
        this.issuer = b.issuer;
        this.audience = b.audience;
    }

    /** Tokens under this secret, with the system clock for expiry. */
    public static Tokens withSecret(byte[] secret) {
        return builder().secret(secret).build();
    }

    /** Tokens under this secret, with {@code clock} for expiry (tests move it). */
    public static Tokens withSecret(byte[] secret, Clock clock) {
        return builder().secret(secret).clock(clock).build();
    }

    /** A builder: a secret, a JWKS, or both. */
    public static Builder builder() {
        return new Builder();
    }

    /** How a server checks tokens. */
    public static final class Builder {
        private byte[] secret;
        private JwksKeys jwks;
        private String issuer;
        private String audience;
        private String identityClaim = "sub";
        private List<JWSAlgorithm> algorithms;
        private Clock clock = Clock.systemUTC();

        private Builder() {}

        /** HS256 tokens under this secret, at least {@value #MIN_SECRET_BYTES} bytes. */
        public Builder secret(byte[] secret) {
            this.secret = secret;
            return this;
        }

        /** RS256 and ES256 tokens under the keys of this set; needs {@link #issuer} and {@link #audience}. */
        public Builder jwks(JwksKeys jwks) {
            this.jwks = jwks;
            return this;
        }

        /** The {@code iss} a token of the JWKS must carry. */
        public Builder issuer(String issuer) {
            this.issuer = issuer;
            return this;
        }

        /** The audience a token of the JWKS must name in its {@code aud}. */
        public Builder audience(String audience) {
            this.audience = audience;
            return this;
        }

        /** The claim of a JWKS token that holds the identity (default {@code sub}). */
        public Builder identityClaim(String claim) {
            this.identityClaim = claim;
            return this;
        }

        /**
         * The algorithms accepted, from {@link #SUPPORTED}, written like {@code "RS256,ES256"}; by
         * default HS256 with a secret and RS256 and ES256 with a JWKS.
         *
         * @throws InvalidArgumentException naming an algorithm not supported
         */
        public Builder algorithms(String list) {
            List<JWSAlgorithm> algs = new java.util.ArrayList<>();
            for (String name : list.split(",")) {
                JWSAlgorithm alg = JWSAlgorithm.parse(name.strip().toUpperCase(Locale.ROOT));
                if (!SUPPORTED.contains(alg)) {
                    throw new InvalidArgumentException(
                            "token algorithms are among HS256, RS256 and ES256, not '" + name.strip() + "'");
                }
                algs.add(alg);
            }
            this.algorithms = algs;
            return this;
        }

        /** The clock expiry is read from. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * @throws InvalidArgumentException if the settings do not fit together (an algorithm
         *     without its keys, a JWKS without issuer and audience, a short secret)
         */
        public Tokens build() {
            return new Tokens(this);
        }
    }

    /**
     * Reads the secret from a file: its bytes, with surrounding whitespace removed.
     *
     * @throws InvalidArgumentException naming the file if it cannot be read or is too short
     */
    public static Tokens fromFile(Path file) {
        return withSecret(readSecret(file));
    }

    /**
     * The secret in a file: its bytes, with surrounding whitespace removed.
     *
     * @throws InvalidArgumentException naming the file if it cannot be read or is too short
     */
    public static byte[] readSecret(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot read the token secret " + file + ": " + e, e);
        }
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).strip();
        byte[] secret = text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Arrays.fill(bytes, (byte) 0);
        if (secret.length < MIN_SECRET_BYTES) {
            throw new InvalidArgumentException("the token secret " + file + " has " + secret.length
                    + " bytes; it needs at least " + MIN_SECRET_BYTES + " (try: head -c 48 /dev/urandom | base64 > "
                    + file + ")");
        }
        return secret;
    }

    /**
     * Makes a token for {@code identity} that expires {@code ttl} from now.
     *
     * @throws InvalidArgumentException if the identity is empty, longer than 256 characters or has
     *     whitespace, or the TTL is not between one second and {@link #MAX_TTL}
     */
    public String issue(String identity, Duration ttl) {
        if (identity == null || identity.isEmpty() || identity.length() > 256 || identity.matches(".*\\s.*")) {
            throw new InvalidArgumentException(
                    "an identity is 1 to 256 characters without whitespace, not '" + identity + "'");
        }
        if (ttl == null || ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new InvalidArgumentException(
                    "a token TTL is between 1s and " + MAX_TTL.toDays() + " days, not " + ttl);
        }
        if (secret == null) {
            throw new InvalidArgumentException("only a token secret issues tokens; this server checks a JWKS's");
        }
        Instant now = clock.instant();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject(identity)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .jwtID(UUID.randomUUID().toString())
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(new MACSigner(secret));
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a token: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    /**
     * The identity a token stands for.
     *
     * @throws PermissionDeniedException as {@link #check}
     */
    public String verify(String token) {
        return check(token).identity();
    }

    /**
     * Checks a token: its algorithm, signature, issuer, audience, expiry and identity.
     *
     * @throws PermissionDeniedException with one line naming the cause, for a token that does not
     *     parse, is not signed ({@code alg: none}), is signed with an algorithm not configured, has
     *     a key id the JWKS does not hold or a key of another type, a bad signature, another issuer
     *     or audience, no expiry, has expired or is not valid yet, or names no identity
     */
    public Verified check(String token) {
        if (token == null || token.isEmpty() || token.length() > 8192) {
            throw RefusedCredentials.badToken("the bearer token is empty or too long");
        }
        JWT parsed;
        try {
            parsed = JWTParser.parse(token);
        } catch (ParseException e) {
            throw RefusedCredentials.badToken("the bearer token is not a JWT");
        }
        if (parsed instanceof PlainJWT) {
            throw RefusedCredentials.badToken("the bearer token is not signed (alg: none)");
        }
        if (!(parsed instanceof SignedJWT jwt)) {
            throw RefusedCredentials.badToken("the bearer token is encrypted, which this server does not accept");
        }
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        if (!algorithms.contains(alg)) {
            throw RefusedCredentials.badToken("the bearer token is signed with " + alg
                    + ", which this server does not accept (it accepts " + accepted() + ")");
        }
        boolean own = JWSAlgorithm.HS256.equals(alg);
        try {
            if (!jwt.verify(own ? new MACVerifier(secret) : jwks.verifierFor(jwt.getHeader()))) {
                throw RefusedCredentials.badSignature("the bearer token's signature is not valid");
            }
        } catch (JOSEException e) {
            throw RefusedCredentials.badSignature("the bearer token cannot be verified: " + e.getMessage());
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw RefusedCredentials.badToken("the bearer token's claims do not parse");
        }
        String wantIssuer = own ? ISSUER : issuer;
        if (!wantIssuer.equals(claims.getIssuer())) {
            throw RefusedCredentials.badToken(
                    "the bearer token's issuer is " + quoted(claims.getIssuer()) + ", not " + quoted(wantIssuer));
        }
        if (!own && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
            throw RefusedCredentials.badToken(
                    "the bearer token's audience is " + claims.getAudience() + ", without " + quoted(audience));
        }
        String claim = own ? "sub" : identityClaim;
        Object named = claims.getClaim(claim);
        if (!(named instanceof String identity) || identity.isEmpty() || identity.length() > 256) {
            throw RefusedCredentials.badToken("the bearer token names no identity in its claim " + quoted(claim));
        }
        Date expiry = claims.getExpirationTime();
        if (expiry == null) {
            throw RefusedCredentials.badToken("the bearer token of " + identity + " has no expiry");
        }
        Instant now = clock.instant();
        if (now.isAfter(expiry.toInstant().plus(LEEWAY))) {
            throw RefusedCredentials.expired(
                    identity, "the bearer token of " + identity + " expired at " + expiry.toInstant());
        }
        Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && now.plus(LEEWAY).isBefore(notBefore.toInstant())) {
            throw RefusedCredentials.badToken(
                    "the bearer token of " + identity + " is not valid before " + notBefore.toInstant());
        }
        return new Verified(identity, claims.getJWTID(), expiry.toInstant());
    }

    /**
     * What a token says, its signature and claims not checked: for {@code holdfast token revoke},
     * which needs the id and expiry of a token the cluster may be accepting.
     *
     * @return the subject (may be null), the {@code jti} (may be null) and the expiry (may be null)
     * @throws InvalidArgumentException if it is not a JWT
     */
    public static Verified readUnchecked(String token) {
        try {
            JWTClaimsSet claims = JWTParser.parse(token.strip()).getJWTClaimsSet();
            Date expiry = claims.getExpirationTime();
            return new Verified(claims.getSubject(), claims.getJWTID(), expiry == null ? null : expiry.toInstant());
        } catch (ParseException e) {
            throw new InvalidArgumentException("not a JWT: " + e.getMessage(), e);
        }
    }

    private String accepted() {
        return String.join(
                ", ",
                SUPPORTED.stream()
                        .filter(algorithms::contains)
                        .map(JWSAlgorithm::getName)
                        .toList());
    }

    private static String quoted(Object value) {
        return value == null ? "none" : "'" + value + "'";
    }

    @Override
    public String toString() {
        return "Tokens[" + accepted() + (jwks == null ? "" : ", " + jwks.location()) + "]"; // never the secret
    }
}
