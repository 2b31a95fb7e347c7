package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.client.MemProvider;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Clients that share one callback executor ({@link ClientOptions#callbackExecutor()}): a burst that
 * gives every client a callback at once runs on the shared threads, not on a thread started per
 * client (2,000 to 4,000 a JVM in the 100,000-session benchmark, past the machine's thread ids);
 * a closed client stops handing it tasks, and never shuts it down.
 */
class SharedCallbacksTest {
    private final ExecutorService shared = Executors.newFixedThreadPool(4, r -> new Thread(r, "shared-callbacks"));

    @AfterEach
    void stop() {
        shared.shutdownNow();
    }

    @Test
    void aThousandClientsCallbackAtOnceOnTheSharedThreads() throws Exception {
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        List<ClientThreads> clients = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            clients.add(new ClientThreads("c" + i, Optional.empty(), Optional.of(shared)));
        }
        CountDownLatch all = new CountDownLatch(clients.size());
        CountDownLatch release = new CountDownLatch(1);
        for (ClientThreads c : clients) {
            c.runCallback(() -> {
                ran.add(Thread.currentThread());
                all.countDown();
                try {
                    release.await(); // held until every client has handed its callback over
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        release.countDown();
        assertThat(all.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).as("the threads that ran 1,000 clients' callbacks").hasSizeLessThanOrEqualTo(4);
        assertThat(ran).allMatch(t -> t.getName().equals("shared-callbacks"));
        clients.forEach(ClientThreads::shutdown);
    }

    @Test
    void aClosedClientHandsTheSharedExecutorNothingAndLeavesItRunning() throws Exception {
        ClientThreads one = new ClientThreads("one", Optional.empty(), Optional.of(shared));
        ClientThreads two = new ClientThreads("two", Optional.empty(), Optional.of(shared));
        one.shutdown();

        assertThat(shared.isShutdown()).isFalse();
        assertThat(one.callbacks().isShutdown()).isTrue();
        assertThat(one.callbacks().awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> one.callbacks().execute(() -> {})).isInstanceOf(RejectedExecutionException.class);
        String[] ranOn = new String[1];
        one.runCallback(() -> ranOn[0] = Thread.currentThread().getName());
        assertThat(ranOn[0])
                .as("a closed client's callback runs on the caller's thread")
                .isEqualTo(Thread.currentThread().getName());

        CompletableFuture<String> other = new CompletableFuture<>();
        two.runCallback(() -> other.complete(Thread.currentThread().getName()));
        assertThat(other.get(5, TimeUnit.SECONDS)).isEqualTo("shared-callbacks");
        two.shutdown();
    }

    /** An acquire that waits completes, once the holder releases, on the given executor. */
    @Test
    void aClientsAsyncCallsCompleteOnTheGivenExecutor() throws Exception {
        LocalNode node = LocalNode.named("shared-callbacks");
        ClientOptions options = ClientOptions.builder().callbackExecutor(shared).build();
        try (ClientRuntime holder =
                        ClientRuntime.open("mem", new LocalTransport(node), options, MemProvider.CAPABILITIES);
                ClientRuntime waiter =
                        ClientRuntime.open("mem", new LocalTransport(node), options, MemProvider.CAPABILITIES)) {
            io.holdfast.Lease held = holder.lock("jobs/shared").acquire(Duration.ZERO);
            CompletableFuture<String> thread = waiter.lock("jobs/shared")
                    .acquireAsync(Duration.ofSeconds(10))
                    .thenApply(lease -> {
                        lease.close();
                        return Thread.currentThread().getName();
                    });
            assertThat(thread).as("waiting for the holder").isNotDone();
            held.close();
            assertThat(thread.get(10, TimeUnit.SECONDS)).isEqualTo("shared-callbacks");
        }
        assertThat(shared.isShutdown())
                .as("closing the clients leaves it to its owner")
                .isFalse();
    }
}
