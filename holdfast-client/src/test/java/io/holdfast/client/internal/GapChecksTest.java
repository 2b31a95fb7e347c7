package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.model.FenceCheck;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * After a gap in its events a session checks every lease it holds, and asks the service once for
 * all of them, not once per lease: 10,000 sessions of 100 leases each sent 1,000,000 checks at once
 * when their member died, and the flood held the heartbeats until every session expired
 * (docs/benchmarks.md, 2026-12-06). A lease the check finds gone is still lost; the others stay.
 */
class GapChecksTest {
    private static final int LEASES = 200;

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler timers = new ManualScheduler(ticker);
    private final LocalNode node =
            LocalNode.inVirtualTime("gap-checks-" + UUID.randomUUID().toString().substring(0, 8), ticker, timers);
    private final Counting link = new Counting(new LocalTransport(node));
    private final ClientRuntime client =
            VirtualClients.open(link, timers, o -> o.clientName("gap").sessionTtl(Duration.ofSeconds(10)));
    private final ClientRuntime operator = VirtualClients.open(
            new LocalTransport(node), timers, o -> o.clientName("operator").sessionTtl(Duration.ofSeconds(10)));

    @AfterEach
    void close() {
        client.close();
        operator.close();
        timers.shutdownNow();
    }

    @Test
    void aGapChecksEveryLeaseInOneRequestAndLosesOnlyTheOneTakenAway() throws Exception {
        List<Lease> held = new ArrayList<>();
        for (int i = 0; i < LEASES; i++) {
            held.add(client.lock("gap/" + i).acquire(Duration.ofSeconds(1)));
        }
        List<LockLostException> lost = new CopyOnWriteArrayList<>();
        held.forEach(l -> l.onLost(lost::add));
        link.deaf = true;
        assertThat(operator.admin().revoke("gap/7")).isOne(); // while the client hears nothing
        await("the revocation's event dropped").atMost(Duration.ofSeconds(10)).until(() -> link.dropped.get() > 0);
        assertThat(lost).isEmpty();
        link.single.set(0);

        link.listener.get().onGap();

        await("the checks' answers").atMost(Duration.ofSeconds(10)).until(() -> !lost.isEmpty());
        assertThat(link.many).as("requests for all the leases").hasSize(1);
        assertThat(link.many.get(0)).hasSize(LEASES);
        assertThat(link.single).as("requests for one lease each").hasValue(0);
        assertThat(lost)
                .singleElement()
                .satisfies(e -> assertThat(e.getMessage()).contains("gap/7"));
        assertThat(held.get(7).isValid()).isFalse();
        assertThat(held.stream().filter(Lease::isValid).count()).isEqualTo(LEASES - 1);
    }

    /** Counts the checks, and keeps the session's listener so the test can tell it of a gap. */
    private static final class Counting extends ForwardingLockService {
        final AtomicReference<Listener> listener = new AtomicReference<>();
        final AtomicInteger single = new AtomicInteger();
        final List<List<FenceCheck>> many = new CopyOnWriteArrayList<>();

        Counting(io.holdfast.model.LockService delegate) {
            super(delegate);
        }

        /** While set, the session's events are dropped (a gap, as when a stream breaks). */
        volatile boolean deaf;

        final AtomicInteger dropped = new AtomicInteger();

        @Override
        public void subscribe(String sessionId, Listener l) {
            listener.set(l);
            super.subscribe(sessionId, new Listener() {
                @Override
                public void onEvent(io.holdfast.model.Event event) {
                    if (deaf) {
                        dropped.incrementAndGet();
                    } else {
                        l.onEvent(event);
                    }
                }

                @Override
                public void onGap() {
                    l.onGap();
                }

                @Override
                public void onEnd(Throwable cause) {
                    l.onEnd(cause);
                }
            });
        }

        @Override
        public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
            single.incrementAndGet();
            return super.isCurrentHolder(name, token);
        }

        @Override
        public CompletableFuture<List<Boolean>> isCurrentHolderMany(List<FenceCheck> checks) {
            many.add(List.copyOf(checks));
            return delegate.isCurrentHolderMany(checks);
        }
    }
}
