package io.holdfast.endpoint;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
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
import java.util.UUID;

/**
 * Bearer tokens: JWTs signed with HMAC-SHA256 under a secret that every node of a cluster shares.
 * A token names one identity (its subject) and expires; the server checks the signature, the
 * algorithm (only HS256: a token that says {@code "alg":"none"} or anything else is refused), the
 * issuer and the expiry, then treats the subject as the caller's identity, as it would a client
 * certificate's common name.
 *
 * <p>What it does not do: tokens cannot be revoked one by one before they expire (rotate the secret,
 * or take the identity out of the access rules, which takes effect at once). Expiry is calendar
 * time, read from the injected clock: a node whose clock is far off accepts or refuses tokens
 * early or late, and {@link #LEEWAY} is the only allowance.
 *
 * <p>Failure story: a token leaks in a CI log. Removing its identity's {@code user} line from the
 * access rules refuses it on every node within one log entry; issuing tokens with a short TTL
 * bounds how long a leak that nobody noticed is worth anything.
 */
public final class Tokens {
    /** The {@code iss} of every Holdfast token. */
    public static final String ISSUER = "holdfast";

    /** The shortest secret accepted, in bytes (HS256 needs at least 256 bits). */
    public static final int MIN_SECRET_BYTES = 32;

    /** How far past its expiry a token is still accepted, for clocks that differ a little. */
    public static final Duration LEEWAY = Duration.ofSeconds(30);

    /** The longest token lifetime {@link #issue} makes. */
    public static final Duration MAX_TTL = Duration.ofDays(366);

    private final byte[] secret;
    private final Clock clock;

    private Tokens(byte[] secret, Clock clock) {
        if (secret.length < MIN_SECRET_BYTES) {
            throw new InvalidArgumentException(
                    "a token secret is at least " + MIN_SECRET_BYTES + " bytes, not " + secret.length);
        }
        this.secret = secret.clone();
        this.clock = clock;
    }

    /** Tokens under this secret, with the system clock for expiry. */
    public static Tokens withSecret(byte[] secret) {
        return new Tokens(secret, Clock.systemUTC());
    }

    /** Tokens under this secret, with {@code clock} for expiry (tests move it). */
    public static Tokens withSecret(byte[] secret, Clock clock) {
        return new Tokens(secret, clock);
    }

    /**
     * Reads the secret from a file: its bytes, with surrounding whitespace removed.
     *
     * @throws InvalidArgumentException naming the file if it cannot be read or is too short
     */
    public static Tokens fromFile(Path file) {
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
        return new Tokens(secret, Clock.systemUTC());
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
     * @throws PermissionDeniedException saying why, if the token does not parse, is not HS256, has
     *     a bad signature, another issuer, no subject or no expiry, or has expired
     */
    public String verify(String token) {
        if (token == null || token.isEmpty() || token.length() > 8192) {
            throw new PermissionDeniedException("the bearer token is empty or too long");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw new PermissionDeniedException("the bearer token is not a signed JWT");
        }
        if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
            throw new PermissionDeniedException(
                    "the bearer token is signed with " + jwt.getHeader().getAlgorithm() + ", not HS256");
        }
        try {
            if (!jwt.verify(new MACVerifier(secret))) {
                throw new PermissionDeniedException("the bearer token's signature is not valid");
            }
        } catch (JOSEException e) {
            throw new PermissionDeniedException("the bearer token cannot be verified: " + e.getMessage());
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new PermissionDeniedException("the bearer token's claims do not parse");
        }
        if (!ISSUER.equals(claims.getIssuer())) {
            throw new PermissionDeniedException("the bearer token was not issued by " + ISSUER);
        }
        String subject = claims.getSubject();
        if (subject == null || subject.isEmpty() || subject.length() > 256) {
            throw new PermissionDeniedException("the bearer token names no identity");
        }
        Date expiry = claims.getExpirationTime();
        if (expiry == null) {
            throw new PermissionDeniedException("the bearer token has no expiry");
        }
        if (clock.instant().isAfter(expiry.toInstant().plus(LEEWAY))) {
            throw new PermissionDeniedException("the bearer token of " + subject + " expired at " + expiry.toInstant());
        }
        return subject;
    }

    @Override
    public String toString() {
        return "Tokens[HS256]"; // never the secret
    }
}
