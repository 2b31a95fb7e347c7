package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.endpoint.frame.FrameWrites;
import io.holdfast.endpoint.frame.Gathering;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Items one thread adds inside a frame batch leave together at its end; outside one, alone and at once. */
class GatheringTest {
    private final List<List<String>> sent = new CopyOnWriteArrayList<>();
    private final Gathering<String> gathering = new Gathering<>(items -> sent.add(List.copyOf(items)));

    @Test
    void itemsAddedInABatchLeaveTogetherInOrderAtItsEnd() {
        FrameWrites.together(() -> {
            gathering.add("a");
            gathering.add("b");
            gathering.add("c");
            assertThat(sent).as("nothing leaves before the batch ends").isEmpty();
        });
        assertThat(sent).containsExactly(List.of("a", "b", "c"));
        FrameWrites.together(() -> gathering.add("d"));
        assertThat(sent).as("the next batch gathers anew").containsExactly(List.of("a", "b", "c"), List.of("d"));
    }

    @Test
    void outsideABatchAnItemLeavesAloneAndAtOnce() {
        gathering.add("a");
        assertThat(sent).containsExactly(List.of("a"));
        gathering.add("b");
        assertThat(sent).containsExactly(List.of("a"), List.of("b"));
    }

    @Test
    void eachThreadGathersItsOwn() throws InterruptedException {
        FrameWrites.together(() -> {
            gathering.add("mine");
            Thread other = new Thread(() -> gathering.add("another thread's, outside any batch"));
            other.start();
            try {
                other.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertThat(sent).containsExactly(List.of("another thread's, outside any batch"));
        });
        assertThat(sent).containsExactly(List.of("another thread's, outside any batch"), List.of("mine"));
    }
}
