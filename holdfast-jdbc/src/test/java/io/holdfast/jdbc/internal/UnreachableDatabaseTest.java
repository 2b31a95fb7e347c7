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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A database nobody listens for: opening fails within the connect timeout, not the request timeout
 * (the pool's borrow timeout, during which HikariCP keeps retrying a refused port), and the message
 * is one line with the driver's reason ("refused") and the address, never the pool's "request timed
 * out". The request timeout here is 30 s, so a bound taken from it fails the test.
 */
class UnreachableDatabaseTest {
    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void openingFailsWithinTheConnectTimeoutNamingTheDriversConnectionRefused(String driver) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // released: nothing listens there any more
        }
        Duration connectTimeout = Duration.ofSeconds(1);
        ClientOptions options = ClientOptions.builder()
                .requestTimeout(Duration.ofSeconds(30))
                .connectTimeout(connectTimeout)
                .build();
        long start = System.nanoTime();

        Throwable failure = catchThrowable(() -> LockClient.open(
                        "jdbc:" + driver + "://127.0.0.1:" + port + "/holdfast?user=nobody&password=secret", options)
                .close());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(failure)
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1")
                .hasMessageContaining(Integer.toString(port))
                .hasMessageContaining("refused")
                .hasMessageNotContaining("timed out")
                .hasMessageNotContaining("secret");
        assertThat(failure.getMessage()).doesNotContain("\n");
        assertThat(took).as("bounded by the connect timeout").isLessThan(connectTimeout.plusSeconds(3));
    }
}
