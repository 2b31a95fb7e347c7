package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.Lease;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** {@link Capability#FAIR_QUEUE}: grants in arrival order, no barging. */
abstract class FairQueueContract extends ContractSupport {
    FairQueueContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void waitersAreGrantedInArrivalOrder() {
        assumeCapability(Capability.FAIR_QUEUE);
        String n = name("queue");
        Lease holder = take(open().lock(n));
        int waiters = 4;
        List<CompletableFuture<Lease>> queue = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            queue.add(open().lock(n).acquireAsync(LONG_WAIT));
            awaitQueued(n, i + 1);
        }
        assertThat(queue).as("waiters before the first release").noneMatch(CompletableFuture::isDone);
        assertThat(observer().lock(n).tryAcquire())
                .as("tryAcquire while others wait")
                .isEmpty();

        Lease previous = holder;
        for (int i = 0; i < waiters; i++) {
            int from = i;
            previous.release();
            eventually(PROMPTLY)
                    .alias("a waiter to be granted after release " + (i + 1))
                    .until(() -> queue.subList(from, waiters).stream().anyMatch(CompletableFuture::isDone));
            List<Integer> granted = IntStream.range(from, waiters)
                    .filter(j -> queue.get(j).isDone())
                    .boxed()
                    .toList();
            assertThat(granted)
                    .as("waiters (numbered by arrival) granted by release %d", i + 1)
                    .containsExactly(i);
            Lease lease = Futures.get(queue.get(i), PROMPTLY);
            assertThat(lease.fencingToken()).as("token of waiter %d", i).isGreaterThan(previous.fencingToken());
            previous = lease;
        }
        previous.release();
    }
}
