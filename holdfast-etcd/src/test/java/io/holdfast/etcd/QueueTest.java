package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockMode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Who holds, from keys in creation order: the rules every waiter and {@code describe} apply. */
class QueueTest {
    private long revision = 10;
    private final List<Entry> entries = new ArrayList<>();

    private Entry add(LockMode mode, int permits, int maxPermits) {
        Entry e = new Entry(
                "owner-" + revision, revision++, revision, 1, mode, permits, maxPermits, false, 0, 0, "s", "c");
        entries.add(e);
        return e;
    }

    private Entry lock() {
        return add(LockMode.EXCLUSIVE, 1, 1);
    }

    private Entry read() {
        return add(LockMode.SHARED, 1, 1);
    }

    @Test
    void onlyTheOldestExclusiveEntryHoldsAndEachWaitsForItsPredecessor() {
        Entry a = lock();
        Entry b = lock();
        Entry c = lock();
        assertThat(Queue.judge(entries, a).holds()).isTrue();
        assertThat(Queue.judge(entries, b).holds()).isFalse();
        assertThat(Queue.judge(entries, b).blocker()).isEqualTo(a);
        assertThat(Queue.judge(entries, c).blocker())
                .as("no herd: c watches b, not a")
                .isEqualTo(b);
        assertThat(Queue.holders(entries)).containsExactly(a);
    }

    @Test
    void readersShareUntilAWriterQueuesAndLaterReadersWaitBehindIt() {
        Entry r1 = read();
        Entry r2 = read();
        Entry w = lock();
        Entry r3 = read();
        assertThat(Queue.holders(entries)).containsExactly(r1, r2);
        assertThat(Queue.judge(entries, w).blocker()).isEqualTo(r2);
        assertThat(Queue.judge(entries, r3).holds()).isFalse();
        assertThat(Queue.judge(entries, r3).blocker()).isEqualTo(w);
        entries.remove(r1);
        entries.remove(r2);
        assertThat(Queue.holders(entries)).containsExactly(w);
        entries.remove(w);
        assertThat(Queue.holders(entries)).containsExactly(r3);
    }

    @Test
    void semaphorePermitsAreGrantedInOrderWithoutOvertaking() {
        Entry one = add(LockMode.PERMITS, 1, 3);
        Entry two = add(LockMode.PERMITS, 2, 3);
        Entry big = add(LockMode.PERMITS, 2, 3);
        Entry small = add(LockMode.PERMITS, 1, 3);
        assertThat(Queue.holders(entries)).containsExactly(one, two);
        assertThat(Queue.judge(entries, small).holds())
                .as("a request for 1 behind a waiting request for 2, with nothing free")
                .isFalse();
        entries.remove(one);
        assertThat(Queue.holders(entries)).containsExactly(two);
        entries.remove(two);
        assertThat(Queue.holders(entries)).containsExactly(big, small);
        assertThat(Queue.judge(entries, big).blocker()).isNull();
    }

    @Test
    void aDifferentSizeOrKindIsAConflictWithTheOlderEntry() {
        Entry three = add(LockMode.PERMITS, 1, 3);
        Entry five = add(LockMode.PERMITS, 1, 5);
        Entry plain = lock();
        assertThat(Queue.judge(entries, five).conflict()).isEqualTo(three);
        assertThat(Queue.judge(entries, plain).conflict()).isEqualTo(three);
        assertThat(Queue.holders(entries)).containsExactly(three);
    }
}
