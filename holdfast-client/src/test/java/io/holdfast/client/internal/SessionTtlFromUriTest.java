package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A {@code holdfast://} URI's {@code sessionTtl} is the TTL the client's session is opened with
 * (issue 70: {@code ?sessionTtl=3s} was refused, so shell registrations took the default 10 s to be
 * noticed gone), read as every duration is, within the option's range.
 */
class SessionTtlFromUriTest {
    private final List<Long> opened = new CopyOnWriteArrayList<>();
    private ClientPort server;

    @BeforeEach
    void start() {
        LockService node = new ForwardingLockService(new LocalTransport(LocalNode.named("session-ttl-uri"))) {
            @Override
            public CompletableFuture<Reply> submit(Command command) {
                if (command instanceof Command.OpenSession open) {
                    opened.add(open.ttlMillis());
                }
                return super.submit(command);
            }
        };
        server = ClientPort.start("127.0.0.1", 0, node);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void theSessionIsOpenedWithTheUrisTtlOrTheOptionsDefault() {
        String base = "holdfast://127.0.0.1:" + server.port();
        try (LockClient c = LockClient.open(base + "?sessionTtl=3s")) {
            assertThat(c.isOpen()).isTrue();
        }
        try (LockClient c = LockClient.open(base + "?calls=first&sessionTtl=1m30s")) {
            assertThat(c.isOpen()).isTrue();
        }
        try (LockClient c = LockClient.open(base)) {
            assertThat(c.isOpen()).isTrue();
        }
        assertThat(opened).containsExactly(3_000L, 90_000L, 10_000L);
    }

    @Test
    void aTtlThatIsNoDurationOrOutOfRangeIsOneLineNamingIt() {
        String base = "holdfast://127.0.0.1:" + server.port();
        assertThatThrownBy(() -> LockClient.open(base + "?sessionTtl=3"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("sessionTtl='3': the number 3 has no unit");
        assertThatThrownBy(() -> LockClient.open(base + "?sessionTtl=500ms"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("sessionTtl=500ms, not within 1s..10m");
        assertThatThrownBy(() -> LockClient.open(base + "?sessionTtl=2s&sessionTtl=3s"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("repeated");
        assertThat(opened).isEmpty();
    }
}
