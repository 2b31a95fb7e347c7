package io.holdfast.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockMode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The queue rules on their own: who holds, whom a waiter watches, what is refused. */
class QueueTest {
    private final List<QueueNode> queue = new ArrayList<>();

    private QueueNode add(LockMode mode, int permits, int max) {
        QueueNode n = new QueueNode("n" + queue.size(), queue.size(), mode, permits, max, "o" + queue.size());
        queue.add(n);
        return n;
    }

    private Queue.Decision decide(int i) {
        return Queue.decide("l", queue, i);
    }

    @Test
    void anExclusiveNodeHoldsOnlyFirstAndWatchesItsPredecessor() {
        add(LockMode.EXCLUSIVE, 1, 1);
        QueueNode second = add(LockMode.EXCLUSIVE, 1, 1);
        add(LockMode.EXCLUSIVE, 1, 1);
        assertThat(decide(0)).isInstanceOf(Queue.Holds.class);
        assertThat(decide(2)).isEqualTo(new Queue.Waits(List.of(second)));
    }

    @Test
    void sharedNodesHoldTogetherUntilAWriterAndWatchOnlyTheLastWriterBeforeThem() {
        add(LockMode.SHARED, 1, 1);
        add(LockMode.SHARED, 1, 1);
        QueueNode writer = add(LockMode.EXCLUSIVE, 1, 1);
        add(LockMode.SHARED, 1, 1);
        assertThat(decide(1)).isInstanceOf(Queue.Holds.class);
        assertThat(decide(2)).isInstanceOf(Queue.Waits.class);
        assertThat(decide(3)).as("a reader behind a waiting writer").isEqualTo(new Queue.Waits(List.of(writer)));
        assertThat(Queue.holders("l", queue)).hasSize(2);
    }

    @Test
    void aLargeSemaphoreRequestAtTheHeadIsNotOvertakenAndWatchesEveryHolder() {
        QueueNode a = add(LockMode.PERMITS, 1, 3);
        QueueNode b = add(LockMode.PERMITS, 1, 3);
        QueueNode large = add(LockMode.PERMITS, 2, 3);
        add(LockMode.PERMITS, 1, 3);
        assertThat(decide(1)).isInstanceOf(Queue.Holds.class);
        assertThat(decide(2))
                .as("the first request that does not fit watches all before it")
                .isEqualTo(new Queue.Waits(List.of(a, b)));
        assertThat(decide(3))
                .as("a request that would fit, behind one that does not")
                .isEqualTo(new Queue.Waits(List.of(large)));
    }

    @Test
    void anotherKindOrSizeThanTheHeadsIsRefused() {
        add(LockMode.PERMITS, 1, 3);
        add(LockMode.PERMITS, 1, 5);
        add(LockMode.EXCLUSIVE, 1, 1);
        assertThat(decide(1)).isInstanceOf(Queue.Refused.class);
        assertThat(((Queue.Refused) decide(1)).why()).contains("3 permits, not 5");
        assertThat(((Queue.Refused) decide(2)).why()).contains("semaphore");
    }

    @Test
    void nodeNamesRoundTripAndForeignNamesAreIgnored() {
        String prefix = QueueNode.prefix(new io.holdfast.store.LockRequest(
                new io.holdfast.lease.LeaseRequest("a/b", LockMode.PERMITS, 2, 4),
                "ab12:7",
                java.time.Duration.ofSeconds(1),
                false));
        QueueNode n = QueueNode.parse(prefix + "0000000042").orElseThrow();
        assertThat(n.owner()).isEqualTo("ab12:7");
        assertThat(n.sequence()).isEqualTo(42);
        assertThat(n.permits()).isEqualTo(2);
        assertThat(n.maxPermits()).isEqualTo(4);
        assertThat(QueueNode.parse("lock-0000000001")).isEmpty();
        assertThat(QueueNode.parse("x.owner.12")).isEmpty();
        assertThat(QueueNode.decode(QueueNode.encode("orders/42 ü.%"))).isEqualTo("orders/42 ü.%");
        assertThat(QueueNode.encode("../x")).doesNotContain("/").doesNotContain(".");
    }
}
