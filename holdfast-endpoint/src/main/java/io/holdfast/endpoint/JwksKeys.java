package io.holdfast.endpoint;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import io.holdfast.InvalidArgumentException;
import io.holdfast.PermissionDeniedException;
import io.holdfast.Ticker;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys of an identity provider, as a JSON Web Key Set read from a file or an
 * {@code http(s)} URL, kept fresh: read again once {@code refresh} has passed since the last good
 * read (looked at when a token is checked, so a key removed from the set is refused from the first
 * token checked after that), and at once when a token names a key id that the set does not hold
 * (a key rotated in), but never more often than once per {@code minGap}, so that tokens with
 * made-up key ids cannot make the server hammer the provider.
 *
 * <p>Only the public part of each key is kept. A read that fails (the provider down, a set that does
 * not parse) keeps the keys of the last good read and logs one WARN line; the next try is
 * {@code minGap} later. The first read happens in {@link #load} and must succeed: a server does not
 * start with a key set it cannot read.
 *
 * <p>Time is the injected {@link Ticker}'s. Thread-safe: a read happens under this object's lock,
 * so checks wait for it (at most {@link #TIMEOUT} for a URL).
 */
public final class JwksKeys {
    private static final Logger LOG = LoggerFactory.getLogger(JwksKeys.class);

    /** How often the set is read again by default. */
    public static final Duration DEFAULT_REFRESH = Duration.ofMinutes(5);

    /** The shortest time between two reads by default, whatever the tokens ask for. */
    public static final Duration DEFAULT_MIN_GAP = Duration.ofSeconds(10);

    /** How long one read of a URL may take. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    private static final int MAX_BYTES = 1 << 20;

    private final String location;
    private final long refreshNanos;
    private final long minGapNanos;
    private final Ticker ticker;
    private final HttpClient http;
    private JWKSet keys;
    private long readAt;
    private long triedAt;
    private int reads;

    private JwksKeys(String location, Duration refresh, Duration minGap, Ticker ticker) {
        this.location = location;
        this.refreshNanos = refresh.toNanos();
        this.minGapNanos = minGap.toNanos();
        this.ticker = ticker;
        this.http = isUrl(location)
                ? HttpClient.newBuilder()
                        .connectTimeout(TIMEOUT)
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build()
                : null;
    }

    /**
     * Reads the key set a first time.
     *
     * @param location a file, or an {@code http://} or {@code https://} URL (https with the JVM's
     *     trust store)
     * @param refresh how long a good read is used before the set is read again
     * @param minGap the shortest time between two reads
     * @throws InvalidArgumentException naming the location and the cause if it cannot be read or
     *     parsed, or holds no key
     */
    public static JwksKeys load(String location, Duration refresh, Duration minGap, Ticker ticker) {
        if (refresh.isNegative() || refresh.isZero() || minGap.isNegative() || minGap.compareTo(refresh) > 0) {
            throw new InvalidArgumentException(
                    "the JWKS refresh interval must be more than 0 and at least " + minGap + ", not " + refresh);
        }
        JwksKeys keys = new JwksKeys(location, refresh, minGap, ticker);
        try {
            keys.keys = keys.read();
        } catch (IOException | ParseException | RuntimeException e) {
            throw new InvalidArgumentException("cannot read the JWKS " + location + ": " + why(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InvalidArgumentException("interrupted while reading the JWKS " + location, e);
        }
        long now = ticker.nanos();
        keys.readAt = now;
        keys.triedAt = now;
        return keys;
    }

    /** Where the keys come from. */
    public String location() {
        return location;
    }

    /** How many times the set was read, the first time included. */
    public synchronized int reads() {
        return reads;
    }

    /**
     * The key with this id, reading the set again first if {@code refresh} has passed, or if the
     * set does not hold it and {@code minGap} has passed since the last read.
     *
     * @return the key, or null if the set does not hold it
     */
    public synchronized JWK find(String kid) {
        long now = ticker.nanos();
        if (now - readAt >= refreshNanos && now - triedAt >= minGapNanos) {
            reread(now);
        }
        JWK key = keys.getKeyByKeyId(kid);
        if (key == null && now - triedAt >= minGapNanos) {
            reread(now);
            key = keys.getKeyByKeyId(kid);
        }
        return key;
    }

    /**
     * The verifier for an RS256 or ES256 token's header: the key of the set that its {@code kid}
     * names ({@link #find}), used only if it is of the header's algorithm's type (an RSA key for
     * RS256, a P-256 EC key for ES256), for signatures, and for that algorithm if it names one.
     *
     * @throws PermissionDeniedException with one line naming the cause otherwise
     */
    public JWSVerifier verifierFor(JWSHeader header) throws JOSEException {
        String kid = header.getKeyID();
        if (kid == null) {
            throw RefusedCredentials.badToken("the bearer token names no key (it has no kid)");
        }
        JWK key = find(kid);
        if (key == null) {
            throw new RefusedCredentials(
                    AuthFailures.Reason.UNKNOWN_KEY,
                    "the bearer token's key '" + kid + "' is not in the JWKS " + location);
        }
        if (key.getKeyUse() != null && !KeyUse.SIGNATURE.equals(key.getKeyUse())) {
            throw RefusedCredentials.badToken("the key '" + kid + "' of the JWKS is not for signatures");
        }
        if (key.getAlgorithm() != null && !key.getAlgorithm().equals(header.getAlgorithm())) {
            throw RefusedCredentials.badToken("the key '" + kid + "' of the JWKS is for " + key.getAlgorithm()
                    + ", not " + header.getAlgorithm());
        }
        if (JWSAlgorithm.RS256.equals(header.getAlgorithm()) && key instanceof RSAKey rsa) {
            return new RSASSAVerifier(rsa);
        }
        if (JWSAlgorithm.ES256.equals(header.getAlgorithm())
                && key instanceof ECKey ec
                && Curve.P_256.equals(ec.getCurve())) {
            return new ECDSAVerifier(ec);
        }
        throw RefusedCredentials.badToken("the key '" + kid + "' of the JWKS is " + key.getKeyType()
                + (key instanceof ECKey ec ? " " + ec.getCurve() : "") + ", not a key for " + header.getAlgorithm());
    }

    private void reread(long now) {
        triedAt = now;
        try {
            keys = read();
            readAt = now;
        } catch (IOException | ParseException | RuntimeException e) {
            LOG.warn(
                    "Cannot read the JWKS {} again; keeping the keys of the last good read: {}",
                    location,
                    e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private JWKSet read() throws IOException, ParseException, InterruptedException {
        reads++;
        String text;
        if (http == null) {
            byte[] bytes = Files.readAllBytes(Path.of(location));
            if (bytes.length > MAX_BYTES) {
                throw new IOException("the key set is " + bytes.length + " bytes; the limit is " + MAX_BYTES);
            }
            text = new String(bytes, StandardCharsets.UTF_8);
        } else {
            HttpRequest request = HttpRequest.newBuilder(URI.create(location))
                    .timeout(TIMEOUT)
                    .header("Accept", "application/json")
                    .GET()
                    .build();
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                byte[] bytes = body.readNBytes(MAX_BYTES + 1);
                if (response.statusCode() != 200) {
                    throw new IOException("HTTP status " + response.statusCode());
                }
                if (bytes.length > MAX_BYTES) {
                    throw new IOException("the key set is over " + MAX_BYTES + " bytes");
                }
                text = new String(bytes, StandardCharsets.UTF_8);
            }
        }
        JWKSet set = JWKSet.parse(text).toPublicJWKSet();
        if (set.getKeys().isEmpty()) {
            throw new ParseException("the key set holds no public key", 0);
        }
        return set;
    }

    /** Why a read failed, in a few words. */
    private static String why(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.net.ConnectException) {
            return "connection refused";
        }
        if (e instanceof java.net.http.HttpTimeoutException) {
            return "no answer within " + TIMEOUT.toSeconds() + "s";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static boolean isUrl(String location) {
        return location.startsWith("http://") || location.startsWith("https://");
    }

    @Override
    public String toString() {
        return "JwksKeys[" + location + "]";
    }
}
