package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.endpoint.JwksKeys;
import io.holdfast.endpoint.Tokens;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The bearer-token options of {@code holdfast server} (a picocli {@code @Mixin}): the cluster's own
 * HS256 secret, an identity provider's JWKS with the issuer, audience and identity claim its
 * tokens must carry, and the algorithms accepted. Like every server option they also come from
 * {@code HOLDFAST_TOKEN_…} variables and the configuration file. See docs/security.md.
 */
final class TokenOptions {
    @Option(
            names = "--token-secret",
            paramLabel = "FILE",
            description = "Accept HS256 bearer tokens signed with this secret (at least 32 bytes; the same file on"
                    + " every node; needs TLS). Make tokens with holdfast token.")
    Path tokenSecret;

    @Option(
            names = "--token-jwks",
            paramLabel = "FILE|URL",
            description = "Accept RS256 and ES256 bearer tokens of an identity provider, checked with the public keys"
                    + " of this JSON Web Key Set (a file, or an http(s) URL); needs TLS, --token-issuer and"
                    + " --token-audience. Read again every --token-jwks-refresh, and at once (at most every 10s)"
                    + " for a token whose kid it lacks.")
    String tokenJwks;

    @Option(
            names = "--token-issuer",
            paramLabel = "ISS",
            description = "The iss that every token of --token-jwks must carry.")
    String tokenIssuer;

    @Option(
            names = "--token-audience",
            paramLabel = "AUD",
            description = "The audience that every token of --token-jwks must name in its aud.")
    String tokenAudience;

    @Option(
            names = "--token-identity-claim",
            paramLabel = "CLAIM",
            defaultValue = "sub",
            description = "The claim of a --token-jwks token that names the caller (default: ${DEFAULT-VALUE}).")
    String tokenIdentityClaim;

    @Option(
            names = "--token-algorithms",
            paramLabel = "ALG,...",
            description = "The only signature algorithms accepted, among HS256, RS256 and ES256 (default: HS256 with"
                    + " --token-secret, RS256,ES256 with --token-jwks).")
    String tokenAlgorithms;

    @Option(
            names = "--token-jwks-refresh",
            paramLabel = "DURATION",
            defaultValue = "5m",
            converter = DurationConverter.class,
            description = "How often the --token-jwks key set is read again (default: ${DEFAULT-VALUE}).")
    Duration tokenJwksRefresh;

    /** Whether any token option is given. */
    boolean any() {
        if (tokenSecret == null && tokenJwks == null) {
            if (tokenIssuer != null || tokenAudience != null || tokenAlgorithms != null) {
                throw new IllegalArgumentException(
                        "--token-issuer, --token-audience and --token-algorithms need --token-secret or --token-jwks");
            }
            return false;
        }
        return true;
    }

    /**
     * The bearer tokens accepted, or null for none.
     *
     * @throws IllegalArgumentException for issuer, audience or algorithms without a secret or a JWKS
     * @throws io.holdfast.InvalidArgumentException for settings that do not fit together, or a JWKS
     *     that cannot be read
     */
    Tokens tokens() {
        if (tokenSecret == null && tokenJwks == null) {
            return null;
        }
        Tokens.Builder b =
                Tokens.builder().issuer(tokenIssuer).audience(tokenAudience).identityClaim(tokenIdentityClaim);
        if (tokenSecret != null) {
            b.secret(Tokens.readSecret(tokenSecret));
        }
        if (tokenJwks != null) {
            if (tokenIssuer == null || tokenAudience == null) {
                throw new InvalidArgumentException("--token-jwks needs --token-issuer and --token-audience: the"
                        + " issuer and the audience its tokens must carry");
            }
            b.jwks(JwksKeys.load(
                    tokenJwks,
                    tokenJwksRefresh,
                    JwksKeys.DEFAULT_MIN_GAP.compareTo(tokenJwksRefresh) < 0
                            ? JwksKeys.DEFAULT_MIN_GAP
                            : tokenJwksRefresh,
                    io.holdfast.Ticker.system()));
        }
        if (tokenAlgorithms != null) {
            b.algorithms(tokenAlgorithms);
        }
        return b.build();
    }
}
