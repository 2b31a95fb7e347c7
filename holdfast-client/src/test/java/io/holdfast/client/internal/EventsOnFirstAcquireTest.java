package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A session keeps no event stream at its member until its first acquire (most of a fleet's
 * sessions never acquire: a stream each cost the member that carries them about 1.3 KB of heap),
 * and the stream its first acquire opens is delivering before that acquire is sent, so that a
 * grant made later arrives as an event, not at the wait's backstop (the wait plus the TTL, 70 s
 * here). One gRPC member over one node on loopback, counting the sessions its Events calls subscribe.
 */
class EventsOnFirstAcquireTest {
    @RegisterExtension
    final Closing closing = new Closing();

    private final String nodeName =
            "events-first-" + UUID.randomUUID().toString().substring(0, 8);
    private final LocalNode node = LocalNode.named(nodeName);

    @Test
    void anIdleSessionOpensNoEventStreamAndItsFirstAcquireOpensOneThatDeliversTheGrant() throws Exception {
        AtomicInteger eventsCalls = new AtomicInteger();
        ClientPort server =
                closing.add(ClientPort.start("127.0.0.1", 0, new ForwardingLockService(new LocalTransport(node)) {
                    @Override
                    public void subscribe(String sessionId, Listener listener) {
                        eventsCalls.incrementAndGet(); // the member's side of an Events call, one per session on it
                        super.subscribe(sessionId, listener);
                    }
                }));
        ClientOptions options =
                ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();
        LockClient holder = closing.add(LockClient.open("mem:" + nodeName));
        LockClient waiter = closing.add(LockClient.open("holdfast://127.0.0.1:" + server.port(), options));
        Lease held = holder.lock("jobs/1").acquire(Duration.ofSeconds(1));

        // Two heartbeats at least (every quarter of the TTL): the session is kept, with no stream.
        await().during(Duration.ofSeconds(6))
                .atMost(Duration.ofSeconds(8))
                .until(() -> eventsCalls.get() == 0 && waiter.isOpen());

        CompletableFuture<Lease> waiting = waiter.lock("jobs/1").acquireAsync(Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(5)).until(() -> waiters() == 1);
        assertThat(eventsCalls).as("the first acquire's stream").hasValue(1);

        held.release();
        Lease granted = waiting.get(5, TimeUnit.SECONDS);
        assertThat(granted.fencingToken()).isGreaterThan(held.fencingToken());
        assertThat(waiter.lock("jobs/2").acquire(Duration.ofSeconds(1)).fencingToken())
                .as("a later acquire")
                .isPositive();
        assertThat(eventsCalls).as("one stream for the session's acquires").hasValue(1);
    }

    private int waiters() {
        return node.describe("jobs/1").map(info -> info.waiters().size()).orElse(0);
    }
}
