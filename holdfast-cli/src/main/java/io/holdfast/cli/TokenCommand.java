package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.endpoint.Tokens;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast token}: makes a bearer token for an identity, signed with the cluster's token
 * secret, and prints it on stdout (nothing else, so that it can go straight into a file).
 */
@Command(
        name = "token",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Make a bearer token (a JWT signed with HMAC-SHA256) for an identity; print it on stdout.",
            "",
            "Example:  holdfast token --secret secret.key --identity billing --ttl 24h > billing.token",
            "          holdfast lock job --backend 'holdfast://127.0.0.1:4653?ca=certs/ca.pem"
                    + "&token-file=billing.token' -- ./job.sh"
        })
final class TokenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--secret",
            paramLabel = "FILE",
            required = true,
            description = "The token secret the nodes were started with (--token-secret).")
    Path secret;

    @Option(
            names = "--identity",
            paramLabel = "NAME",
            required = true,
            description = "Who the token stands for: a 'user' of the access rules.")
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
        String token;
        try {
            token = Tokens.fromFile(secret).issue(identity, ttl);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        spec.commandLine().getOut().println(token);
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
