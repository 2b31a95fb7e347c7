package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Opening a {@code holdfast://} client when nothing answers: it fails within the connect timeout
 * (not the retry policy's 30 s), naming the addresses and the cause; and it keeps trying until
 * then, so a server that comes up meanwhile is reached. Over frames and over gRPC alike.
 */
class FirstContactTest {
    /** Generous: a loaded 2-core CI machine may be late by seconds, but never by 25 s. */
    private static final Duration SLACK = Duration.ofSeconds(3);

    @ParameterizedTest
    @ValueSource(strings = {"", "?transport=grpc"})
    void nothingListeningFailsWithinTheConnectTimeoutNamingTheAddressAndConnectionRefused(String query)
            throws IOException {
        int port = freePort();
        Duration connectTimeout = Duration.ofSeconds(2);
        ClientOptions options =
                ClientOptions.builder().connectTimeout(connectTimeout).build();
        long start = System.nanoTime();

        Throwable failure = catchThrowable(() ->
                LockClient.open("holdfast://127.0.0.1:" + port + query, options).close());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(failure)
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("connection refused");
        assertThat(failure.getMessage()).doesNotContain("\n");
        assertThat(took).as("failed within the connect timeout").isLessThan(connectTimeout.plus(SLACK));
        assertThat(took).as("kept trying until the connect timeout").isGreaterThan(connectTimeout.minusMillis(500));
    }

    @Test
    void theUrisConnectTimeoutTakesThePlaceOfTheOptions() throws IOException {
        int port = freePort();
        long start = System.nanoTime();

        Throwable failure = catchThrowable(
                () -> LockClient.open("holdfast://127.0.0.1:" + port + "?connectTimeout=1s", ClientOptions.defaults())
                        .close());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(failure)
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("within the connect timeout (1s)")
                .hasMessageContaining("connection refused");
        assertThat(took)
                .as("the URI's 1 s, not the default 5 s")
                .isLessThan(Duration.ofSeconds(1).plus(SLACK));
    }

    @Test
    void byDefaultTheConnectTimeoutIsFiveSecondsNotTheRetryPolicysThirty() throws IOException {
        int a = freePort();
        int b = freePort();
        assertThat(ClientOptions.defaults().connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        long start = System.nanoTime();

        Throwable failure = catchThrowable(() ->
                LockClient.open("holdfast://127.0.0.1:" + a + ",127.0.0.1:" + b).close());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(failure)
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + a + ": connection refused")
                .hasMessageContaining("127.0.0.1:" + b + ": connection refused");
        assertThat(took).isLessThan(Duration.ofSeconds(5).plus(SLACK));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "?transport=grpc"})
    void aServerThatComesUpWithinTheConnectTimeoutIsReached(String query) throws Exception {
        int port = freePort();
        ClientOptions options =
                ClientOptions.builder().connectTimeout(Duration.ofSeconds(20)).build();
        CompletableFuture<LockClient> opening =
                CompletableFuture.supplyAsync(() -> LockClient.open("holdfast://127.0.0.1:" + port + query, options));
        try {
            await("still trying while nothing listens")
                    .during(Duration.ofMillis(700))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> !opening.isDone());

            LocalNode node = LocalNode.named("first-contact-" + UUID.randomUUID());
            try (ClientPort server = ClientPort.start("127.0.0.1", port, new LocalTransport(node))) {
                try (LockClient client = opening.get(15, TimeUnit.SECONDS)) {
                    assertThat(client.lock("jobs/1")
                                    .acquire(Duration.ofSeconds(5))
                                    .isValid())
                            .isTrue();
                }
            }
        } finally {
            opening.thenAccept(LockClient::close);
        }
    }

    /** A loopback port nothing listens on (just released). */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
