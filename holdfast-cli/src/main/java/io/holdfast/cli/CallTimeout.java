package io.holdfast.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The {@code --timeout DURATION} option of the commands that an operator runs against a cluster's
 * leader ({@code members} and its subcommands, {@code sessions}, {@code sessions end}, {@code
 * revoke}, {@code backup}, {@code token revoke}); a picocli {@code @Mixin}, which those commands
 * take with {@code --backend} through the {@code ServerCalls} mixin. Within it, {@code ServerCalls}
 * tries again while no member can serve the call: no leader yet, an election under way, the member
 * asked refusing the connection while another may lead.
 *
 * <p>Not guaranteed: that the command ends exactly at the timeout; an attempt under way is cut at it,
 * and the process exits within about a second after.
 */
public final class CallTimeout {
    /** The timeout when none is given. */
    static final Duration DEFAULT = Duration.ofSeconds(30);

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            defaultValue = "30s",
            description = "How long to keep trying while the cluster has no leader (an election, a member down) before"
                    + " giving up with exit code 69 (default: ${DEFAULT-VALUE}).")
    Duration timeout = DEFAULT;

    /** The timeout; zero or negative is a usage error. */
    Duration get() {
        return positive(timeout);
    }

    /**
     * {@code timeout}, the value of a command's {@code --timeout}.
     *
     * @throws CliFailure ({@value ExitCodes#USAGE}) when it is zero or negative
     */
    static Duration positive(Duration timeout) {
        if (timeout.isZero() || timeout.isNegative()) {
            throw new CliFailure(ExitCodes.USAGE, "--timeout must be more than 0, not " + Durations.format(timeout));
        }
        return timeout;
    }
}
