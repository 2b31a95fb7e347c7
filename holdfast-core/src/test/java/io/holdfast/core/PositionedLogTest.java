package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.model.ChangePosition;
import java.util.List;
import org.junit.jupiter.api.Test;

class PositionedLogTest {
    private static ChangePosition at(long index, int ordinal) {
        return new ChangePosition(index, ordinal);
    }

    private static List<String> values(List<PositionedLog.Positioned<String>> found) {
        return found.stream().map(PositionedLog.Positioned::value).toList();
    }

    @Test
    void readsInOrderFromAPositionWithAFilterAndALimit() {
        PositionedLog<String> log = new PositionedLog<>(100, ChangePosition.START);
        log.add(5, 0, "a");
        log.add(5, 1, "b");
        log.add(7, 0, "c");
        assertThat(values(log.after(ChangePosition.START, v -> true, 10))).containsExactly("a", "b", "c");
        assertThat(values(log.after(at(5, 1), v -> true, 10))).containsExactly("b", "c");
        assertThat(values(log.after(ChangePosition.START, v -> !v.equals("b"), 10)))
                .containsExactly("a", "c");
        assertThat(log.after(ChangePosition.START, v -> true, 2).get(1).next()).isEqualTo(at(5, 2));
        assertThat(log.after(at(8, 0), v -> true, 10)).isEmpty();
        assertThat(log.end()).isEqualTo(at(7, 1));
    }

    @Test
    void lettingTheOldestGoByCountMovesWhereItIsCompleteSoTheGapIsSeen() {
        PositionedLog<String> log = new PositionedLog<>(20, ChangePosition.START);
        for (int i = 1; i <= 50; i++) { // the ring grows and wraps on the way
            log.add(i, 0, "v" + i);
        }
        assertThat(log.complete()).isEqualTo(at(30, 1));
        assertThat(log.after(at(30, 0), v -> true, 100)).as("a gap").isNull();
        assertThat(values(log.after(at(30, 1), v -> true, 100)))
                .hasSize(20)
                .startsWith("v31")
                .endsWith("v50");
    }

    @Test
    void lettingTheOldestGoByWeightKeepsTheNewestWhateverItWeighs() {
        PositionedLog<String> log = new PositionedLog<>(100, 10, String::length, ChangePosition.START);
        log.add(1, 0, "aaaa");
        log.add(2, 0, "bbbb");
        log.add(3, 0, "cccc");
        assertThat(log.complete()).isEqualTo(at(1, 1));
        log.add(4, 0, "a value heavier than the whole log");
        assertThat(values(log.after(log.complete(), v -> true, 10)))
                .containsExactly("a value heavier than the whole log");
    }

    @Test
    void aClearedLogIsCompleteFromWhereItWasCleared() {
        PositionedLog<String> log = new PositionedLog<>(4, ChangePosition.START);
        log.add(1, 0, null);
        log.clear(at(9, 0));
        assertThat(log.end()).isEqualTo(at(9, 0));
        assertThat(log.after(at(8, 0), v -> true, 10)).isNull();
        assertThat(log.after(at(9, 0), v -> true, 10)).isEmpty();
    }

    @Test
    void anEmptyLogHoldsNoRingUntilItsFirstValueAndAClearedOneGrowsAgain() {
        PositionedLog<String> log = new PositionedLog<>(1, at(3, 0));
        assertThat(log.end()).isEqualTo(at(3, 0));
        assertThat(log.after(at(3, 0), v -> true, 10)).isEmpty();
        log.add(4, 0, "a");
        log.add(4, 1, "b"); // a capacity of 1: "a" goes
        assertThat(log.after(at(4, 1), v -> true, 10))
                .extracting(PositionedLog.Positioned::value)
                .containsExactly("b");
        assertThat(log.after(at(4, 0), v -> true, 10)).isNull();
        log.clear(at(5, 0));
        log.add(5, 0, "c");
        assertThat(log.after(at(5, 0), v -> true, 10))
                .extracting(PositionedLog.Positioned::value)
                .containsExactly("c");
    }
}
