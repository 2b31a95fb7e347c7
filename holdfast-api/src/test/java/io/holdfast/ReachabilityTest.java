package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.internal.Reachability;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReachabilityTest {
    @Test
    void oneAcceptingAddressIsEnough() throws Exception {
        int closed = closedPort();
        try (ServerSocket open = new ServerSocket(0)) {
            assertThat(Reachability.noneAccepts(
                            List.of("127.0.0.1:" + closed, "127.0.0.1:" + open.getLocalPort()), Duration.ofSeconds(2)))
                    .isNull();
        }
    }

    @Test
    void everyAddressIsNamedWithItsReasonWhenNoneAccepts() throws Exception {
        int closed = closedPort();
        String none = Reachability.noneAccepts(
                List.of("127.0.0.1:" + closed, "no-such-host.invalid:2379"), Duration.ofSeconds(2));
        assertThat(none)
                .isEqualTo("127.0.0.1:" + closed + ": connection refused; no-such-host.invalid:2379: unknown host");
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
