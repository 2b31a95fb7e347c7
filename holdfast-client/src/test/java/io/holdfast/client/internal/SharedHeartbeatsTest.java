package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The sessions of one connection send their heartbeats together ({@link HeartbeatBatches}), over
 * a real gRPC port: a hundred sessions opened at once cost the server a few {@code KeepAliveMany}
 * calls a heartbeat interval, not a hundred {@code KeepAlive} calls, and every session stays open.
 */
class SharedHeartbeatsTest {
    private static final int SESSIONS = 100;

    /** The server's backend, counting the heartbeat calls that reach it. */
    private static final class Counting extends ForwardingLockService {
        final AtomicInteger singleCalls = new AtomicInteger();
        final AtomicInteger manyCalls = new AtomicInteger();
        final AtomicInteger heartbeatsInMany = new AtomicInteger();

        Counting(LockService delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<Reply> keepAlive(String sessionId) {
            singleCalls.incrementAndGet();
            return delegate.keepAlive(sessionId);
        }

        @Override
        public CompletableFuture<List<Reply>> keepAliveMany(List<String> sessionIds) {
            manyCalls.incrementAndGet();
            heartbeatsInMany.addAndGet(sessionIds.size());
            return delegate.keepAliveMany(sessionIds);
        }
    }

    @Test
    void aHundredSessionsOfOneConnectionBeatInAFewCallsAndStayOpen() throws Exception {
        Counting backend = new Counting(new LocalTransport(LocalNode.named("shared-heartbeats")));
        List<ClientRuntime> sessions = new ArrayList<>();
        try (ClientPort server = ClientPort.start("127.0.0.1", 0, backend)) {
            String uri = "holdfast://127.0.0.1:" + server.port();
            ClientOptions options = ClientOptions.builder()
                    .sessionTtl(Duration.ofSeconds(2)) // a heartbeat every 500 ms
                    .build();
            Set<Capability> capabilities;
            try (LockClient first = LockClient.open(uri, options)) {
                capabilities = first.capabilities();
            }
            ClusterTransport shared = HoldfastProvider.transport(uri, Duration.ofSeconds(5));
            LockService unclosable = new ForwardingLockService(shared) {
                @Override
                public void close() {} // a session's close must not close the connection the others share
            };
            try {
                for (int i = 0; i < SESSIONS; i++) {
                    sessions.add(ClientRuntime.open("holdfast", unclosable, options, capabilities));
                }
                int singlesAtOpen = backend.singleCalls.get();
                Awaitility.await("three heartbeats of every session")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> backend.heartbeatsInMany.get() >= 3 * SESSIONS);

                assertThat(sessions).allMatch(ClientRuntime::isOpen);
                assertThat(backend.singleCalls.get() - singlesAtOpen)
                        .as("heartbeats sent one call each")
                        .isZero();
                assertThat(backend.manyCalls.get())
                        .as("calls for %d heartbeats: at least ten heartbeats a call", backend.heartbeatsInMany.get())
                        .isLessThanOrEqualTo(backend.heartbeatsInMany.get() / 10);
            } finally {
                sessions.forEach(ClientRuntime::close);
                shared.close();
            }
        }
    }
}
