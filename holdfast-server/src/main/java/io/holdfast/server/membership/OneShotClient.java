package io.holdfast.server.membership;

import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.RaftSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;

/**
 * A Ratis client built for one call: the call's outcome is the caller's as soon as the call ends,
 * and the client is closed on a thread of its own.
 *
 * <p>Why apart: Ratis closes each of a client's gRPC channels by waiting up to 3 s for the calls on
 * it to end, then up to 2 s more ({@code GrpcUtil.shutdownManagedChannel}). Closed by
 * try-with-resources, a one-shot ask held its answer for those seconds whenever the close waited:
 * in stop 90's CI run (2026-12-04, 18:33) a restarted node logged "Timed out gracefully shutting
 * down connection" for its asks of both peers and counted every ask of its 30 s of start-up
 * questions as "no answer in time".
 * {@link io.holdfast.server.leadership.LeaderLink} closes the clients it lets go of apart for the
 * same reason.
 *
 * <p>Guarantees: every client built here is closed, once, on the closer; an exception of the call
 * reaches the caller as thrown. Not guaranteed: when the close ends (a close still waiting when the
 * JVM exits is cut short, which loses nothing: the call has ended).
 */
final class OneShotClient {
    private static final Executor CLOSER = DaemonThreads.threadPerTask("holdfast-one-shot-close");

    /** One call on a client. */
    interface Call<T> {
        T on(RaftClient client) throws IOException;
    }

    private OneShotClient() {}

    /** Properties whose only setting is the request timeout of each call. */
    static RaftProperties withTimeout(Duration timeout) {
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(
                properties, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
        return properties;
    }

    /**
     * A client of {@code group} whose calls time out after {@code timeout}, with {@code retry},
     * on this node's Raft RPC (its TLS settings included).
     */
    static RaftClient.Builder builder(RaftGroup group, Parameters parameters, Duration timeout, RetryPolicy retry) {
        RaftProperties properties = withTimeout(timeout);
        return RaftClient.newBuilder()
                .setRaftGroup(group)
                .setProperties(properties)
                .setParameters(parameters)
                .setRetryPolicy(retry)
                .setClientRpc(RaftSettings.clientRpc(parameters, properties));
    }

    /** Builds the client, makes the call, and hands the client to the shared closer. */
    static <T> T call(RaftClient.Builder builder, Call<T> call) throws IOException {
        return call(builder, call, CLOSER);
    }

    /** As {@link #call(RaftClient.Builder, Call)}, with the closer given (tests keep its closes unrun). */
    static <T> T call(RaftClient.Builder builder, Call<T> call, Executor closer) throws IOException {
        RaftClient client = builder.build();
        try {
            return call.on(client);
        } finally {
            closer.execute(() -> {
                try {
                    client.close();
                } catch (IOException | RuntimeException ignored) {
                    // closing a client whose call has ended: nothing is lost
                }
            });
        }
    }
}
