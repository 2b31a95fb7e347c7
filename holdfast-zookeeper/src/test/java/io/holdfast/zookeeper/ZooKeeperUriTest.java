package io.holdfast.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** URIs: what is accepted, what is refused with a message naming the fault, an unreachable ensemble. */
class ZooKeeperUriTest {
    @Test
    void hostsChrootAndOptionsAreRead() {
        ZooKeeperUri u = ZooKeeperUri.parse("zookeeper://zk1:2181,zk2,10.0.0.3:2182/apps/locks?connectTimeout=3s");
        assertThat(u.connectString()).isEqualTo("zk1:2181,zk2:2181,10.0.0.3:2182");
        assertThat(u.chroot()).isEqualTo("/apps/locks");
        assertThat(u.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
        ZooKeeperUri plain = ZooKeeperUri.parse("zookeeper://localhost:2181");
        assertThat(plain.chroot()).isEqualTo("/holdfast");
        assertThat(plain.connectTimeout()).isNull();
    }

    @Test
    void malformedUrisAreRefusedNamingTheFault() {
        assertThatThrownBy(() -> ZooKeeperUri.parse("zookeeper:///x"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("no host");
        assertThatThrownBy(() -> ZooKeeperUri.parse("zookeeper://h:99999"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("99999");
        assertThatThrownBy(() -> ZooKeeperUri.parse("zookeeper://h:2181,/x"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> ZooKeeperUri.parse("zookeeper://h/a//b"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("chroot");
        assertThatThrownBy(() -> ZooKeeperUri.parse("zookeeper://h/x?sessionTimeout=5s"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("unknown option 'sessionTimeout'");
        assertThatThrownBy(() -> ZooKeeperUri.parse("zookeeper://h/x?connectTimeout=soon"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("duration");
    }

    @Test
    void anUnreachableEnsembleIsUnavailableWithinTheConnectTimeout() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        String uri = "zookeeper://127.0.0.1:" + port + "/x?connectTimeout=1s";
        // A first attempt, untimed, loads the ZooKeeper client's classes: on a loaded two-core
        // machine that alone has taken seconds, which is not what this test bounds.
        assertThatThrownBy(() -> LockClient.open(uri, ClientOptions.defaults()))
                .isInstanceOf(UnavailableException.class);
        long start = System.nanoTime();
        assertThatThrownBy(() -> LockClient.open(uri, ClientOptions.defaults()))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("connection refused");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void withoutConnectTimeoutInTheUriTheClientOptionsConnectTimeoutBoundsTheOpen() throws IOException {
        // A port that accepts connections (the kernel completes them into the backlog) but never
        // speaks ZooKeeper: the address is reachable, the session never comes.
        try (ServerSocket silent = new ServerSocket(0)) {
            String uri = "zookeeper://127.0.0.1:" + silent.getLocalPort() + "/x";
            ClientOptions options = ClientOptions.builder()
                    .connectTimeout(Duration.ofSeconds(1))
                    .requestTimeout(Duration.ofSeconds(20))
                    .build();
            assertThatThrownBy(() -> LockClient.open(uri, options)).isInstanceOf(UnavailableException.class);
            long start = System.nanoTime();
            assertThatThrownBy(() -> LockClient.open(uri, options))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("within 1000 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("the connect timeout (1 s), not the request timeout (20 s)")
                    .isLessThan(Duration.ofSeconds(5));
        }
    }
}
