package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockClient;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.RegisterSet;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client reads answers on gRPC's I/O threads. A caller's continuation on a future of the async
 * API must not run there: one that blocks on another call of the same client would wait for an
 * answer that only that thread can read. Each test holds the server's answer back until the
 * continuation is attached, so that it runs where the answer completes it, then makes a blocking
 * call inside it.
 */
class AsyncContinuationTest {
    private LocalNode node;
    private FaultyService gate;
    private ClientPort server;
    private LockClient client;

    @BeforeEach
    void start() {
        node = LocalNode.named(
                "async-continuation-" + UUID.randomUUID().toString().substring(0, 8));
        gate = new FaultyService(new LocalTransport(node));
        server = ClientPort.start("127.0.0.1", 0, gate);
        client = LockClient.open("holdfast://127.0.0.1:" + server.port());
    }

    @AfterEach
    void stop() throws Exception {
        gate.heal();
        gate.releaseHeld(); // an answer still held would keep the client's close waiting
        client.close();
        server.close();
    }

    @Test
    void aContinuationOnReleaseAsyncMayBlockOnTheSameClient() throws Exception {
        var lease = client.lock("orders/1").acquire(Duration.ofSeconds(5));
        gate.holdCommands(c -> c instanceof Command.Release);
        CompletableFuture<Long> next = lease.releaseAsync().thenApply(done -> blockingAcquire("orders/2"));
        assertContinuationRanOffTheIoThreads(next);
    }

    @Test
    void aContinuationOnAcquireAsyncMayBlockOnTheSameClient() throws Exception {
        gate.holdCommands(c -> c instanceof Command.Acquire);
        CompletableFuture<Long> next = client.lock("orders/5")
                .acquireAsync(Duration.ofSeconds(5))
                .thenApply(lease -> blockingAcquire("orders/6"));
        assertContinuationRanOffTheIoThreads(next);
    }

    @Test
    void aContinuationOnGetAsyncMayBlockOnTheSameClient() throws Exception {
        gate.holdReads();
        CompletableFuture<Long> next =
                client.register("config/1").getAsync().thenApply(v -> blockingAcquire("orders/3"));
        assertContinuationRanOffTheIoThreads(next);
    }

    @Test
    void aContinuationOnCompareAndSetAsyncMayBlockOnTheSameClient() throws Exception {
        gate.holdCommands(c -> c instanceof RegisterSet);
        CompletableFuture<Long> next = client.register("config/2")
                .compareAndSetAsync(0, new byte[] {1})
                .thenApply(v -> blockingAcquire("orders/4"));
        assertContinuationRanOffTheIoThreads(next);
    }

    private final AtomicReference<String> continuationThread = new AtomicReference<>();

    private long blockingAcquire(String name) {
        continuationThread.set(Thread.currentThread().getName());
        gate.heal(); // later calls pass
        try {
            return client.lock(name).acquire(Duration.ofSeconds(5)).fencingToken();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private void assertContinuationRanOffTheIoThreads(CompletableFuture<Long> next) throws Exception {
        assertThat(gate.awaitHeld(5)).as("the answer was held back").isTrue();
        gate.releaseHeld();
        assertThat(next.get(10, TimeUnit.SECONDS)).isPositive();
        assertThat(continuationThread.get()).startsWith("holdfast-callbacks");
    }
}
