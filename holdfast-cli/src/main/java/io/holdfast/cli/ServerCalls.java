package io.holdfast.cli;

import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClusterTransport;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Calls that only the Holdfast server answers (sessions, members, access rules), made straight on
 * its gRPC protocol with the backend URI's addresses, TLS files and token.
 */
final class ServerCalls {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private ServerCalls() {}

    /**
     * Opens a connection to the cluster of {@code uri}, makes the call, and waits for its answer.
     *
     * @param what what is asked, for the message when the backend is no Holdfast server
     * @throws CliFailure ({@value ExitCodes#USAGE}) for a backend that is no Holdfast server, and
     *     ({@value ExitCodes#BACKEND_UNAVAILABLE}) when the cluster does not answer in time
     */
    static <T> T call(String uri, String what, Function<ClusterTransport, CompletableFuture<T>> call)
            throws InterruptedException {
        if (!uri.startsWith("holdfast://")) {
            throw new CliFailure(ExitCodes.USAGE, what + " belong to a Holdfast server (holdfast://…), not " + uri);
        }
        try (ClusterTransport transport = new ClusterTransport(
                HoldfastProvider.members(uri),
                Duration.ofSeconds(10),
                HoldfastProvider.tls(uri),
                HoldfastProvider.token(uri))) {
            return call.apply(transport).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } catch (TimeoutException e) {
            throw new CliFailure(
                    ExitCodes.BACKEND_UNAVAILABLE, "the cluster did not answer within " + TIMEOUT.toSeconds() + "s");
        }
    }
}
