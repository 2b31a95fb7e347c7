package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.endpoint.Tokens;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast token}: makes a bearer token for an identity, signed with the cluster's token
 * secret, and prints it on stdout (nothing else, so that it can go straight into a file). {@code
 * holdfast token revoke} puts one token on the cluster's deny list until it expires.
 */
@Command(
        name = "token",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        subcommands = TokenCommand.Revoke.class,
        description = {
            "Make a bearer token (a JWT signed with HMAC-SHA256) for an identity; print it on stdout.",
            "",
            "Example:  holdfast token --secret secret.key --identity billing --ttl 24h > billing.token",
            "          holdfast lock job --backend 'holdfast://127.0.0.1:4653?ca=certs/ca.pem"
                    + "&token-file=billing.token' -- ./job.sh",
            "Revoke one token (any token the cluster accepts, of its secret or its JWKS):",
            "          holdfast token revoke --token-file billing.token --backend 'holdfast://…'",
            "Exit code: 0; 64 usage error."
        })
final class TokenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--secret",
            paramLabel = "FILE",
            description = "The token secret the nodes were started with (--token-secret). Required.")
    Path secret;

    @Option(
            names = "--identity",
            paramLabel = "NAME",
            description = "Who the token stands for: a 'user' of the access rules. Required.")
    String identity;

    @Option(
            names = "--ttl",
            paramLabel = "DURATION",
            defaultValue = "24h",
            converter = DurationConverter.class,
            description = "How long the token is valid (default: ${DEFAULT-VALUE}; at most 366 days).")
    Duration ttl;

    @Override
    public Integer call() {
        if (secret == null || identity == null) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    "holdfast token needs --secret FILE and --identity NAME (or: holdfast token revoke, see --help)");
        }
        String token;
        try {
            token = Tokens.fromFile(secret).issue(identity, ttl);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        return Main.printed(spec, token);
    }

    /** {@code holdfast token revoke}: one token's {@code jti} on the deny list, through the log. */
    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Revoke one bearer token: its id (jti) goes on the cluster's deny list through the log, so every node"
                        + " refuses the token from that entry on, until the token has expired (then the id is"
                        + " dropped). Needs admin while access rules are on. A token without a jti cannot be"
                        + " revoked one by one: rotate its key or secret, or take its identity out of the rules.",
                "",
                "Example:  holdfast token revoke --token-file leaked.token --backend 'holdfast://127.0.0.1:4653"
                        + "?ca=certs/ca.pem&cert=certs/ops.pem&key=certs/ops-key.pem'",
                "Exit code: 0 (also for a token that has expired already); 64 usage error; 69 backend unavailable;"
                        + " 77 not allowed."
            })
    static final class Revoke implements Callable<Integer> {
        /**
         * How long past its expiry an id stays on the list: {@link Tokens#LEEWAY}, and a margin
         * for a node whose clock is behind this machine's.
         */
        static final Duration MARGIN = Tokens.LEEWAY.plus(Duration.ofMinutes(5));

        @Spec
        CommandSpec spec;

        @ArgGroup(multiplicity = "1")
        Which which;

        static final class Which {
            @Parameters(paramLabel = "TOKEN", description = "The token itself.")
            String token;

            @Option(names = "--token-file", paramLabel = "FILE", description = "A file that holds the token.")
            Path file;
        }

        @Mixin
        ServerCalls cluster;

        @Override
        public Integer call() throws InterruptedException {
            String text = which.file != null ? Main.readFile(which.file) : which.token;
            Tokens.Verified claims;
            try {
                claims = Tokens.readUnchecked(text);
            } catch (InvalidArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, "the token is " + e.getMessage(), e);
            }
            if (claims.jti() == null || claims.expiry() == null) {
                throw new CliFailure(
                        ExitCodes.USAGE,
                        "the token has no " + (claims.jti() == null ? "jti" : "expiry") + ", so it cannot be revoked"
                                + " one by one: rotate its key or secret, or take its identity out of the access"
                                + " rules");
            }
            Duration keep = Duration.between(Instant.now(), claims.expiry()).plus(MARGIN);
            if (keep.isNegative() || keep.isZero()) {
                return Main.printed(
                        spec,
                        "The token " + claims.jti() + " expired at " + claims.expiry()
                                + "; every node refuses it already.");
            }
            String jti = claims.jti();
            cluster.submit("token revocation", new io.holdfast.model.Command.RevokeToken(jti, keep.toMillis()));
            return Main.printed(
                    spec,
                    "Revoked the token " + jti + (claims.identity() == null ? "" : " of " + claims.identity())
                            + ": every node refuses it until it expires at " + claims.expiry() + ".");
        }
    }
}
