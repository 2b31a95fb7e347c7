package io.holdfast.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A database nobody listens for: opening fails within about the request timeout (the pool's
 * borrow timeout, once, not once per schema attempt), and the message carries the driver's reason,
 * not only the pool's "request timed out".
 */
class UnreachableDatabaseTest {
    @Test
    void openingFailsWithinTheRequestTimeoutNamingTheDriversConnectionRefused() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // released: nothing listens there any more
        }
        Duration requestTimeout = Duration.ofSeconds(1);
        ClientOptions options =
                ClientOptions.builder().requestTimeout(requestTimeout).build();
        long start = System.nanoTime();

        Throwable failure = catchThrowable(
                () -> LockClient.open("jdbc:postgresql://127.0.0.1:" + port + "/holdfast?user=nobody", options)
                        .close());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(failure)
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("refused");
        assertThat(failure.getMessage()).doesNotContain("\n");
        assertThat(took).as("one borrow timeout, not one per schema attempt").isLessThan(requestTimeout.plusSeconds(4));
    }
}
