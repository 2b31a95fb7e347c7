package io.holdfast.cli;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The {@code --connect-timeout DURATION} option of {@code lock} and {@code elect} (a picocli {@code @Mixin}): how
 * long opening a session with the backend may take, apart from {@code --wait}, which counts from the session.
 * Within it, a backend that refuses the connection or answers that it cannot serve yet (a node still starting,
 * no leader elected yet) is asked again with the client's backoff. A {@code holdfast://} URI's own {@code
 * ?connectTimeout=} takes its place, as it does over any client options.
 *
 * <p>Not guaranteed: that the session opens; a backend that does not serve within the timeout fails the command
 * with {@link ExitCodes#BACKEND_UNAVAILABLE}, one line naming the address and the last failure.
 */
final class ConnectOption {
    /** The default, longer than the client's own (5 s): a node's first seconds after a (re)start fit in it. */
    static final String DEFAULT = "10s";

    @Option(
            names = "--connect-timeout",
            paramLabel = "DURATION",
            defaultValue = DEFAULT,
            converter = DurationConverter.class,
            description = "How long to wait for a session with the backend, a node that is still starting"
                    + " included (default: ${DEFAULT-VALUE}); not taken from --wait.")
    Duration connectTimeout;

    /** The client's options with this connect timeout; one out of the client's range is a usage error. */
    ClientOptions clientOptions() {
        try {
            return ClientOptions.defaults().toBuilder()
                    .connectTimeout(connectTimeout)
                    .build();
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, "--connect-timeout: " + e.getMessage(), e);
        }
    }
}
