package io.holdfast.verify.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FaultActionTest {
    @TempDir
    Path dir;

    /** The text names as history files written before the type hold them: they must never change. */
    private static final Map<FaultAction, String> NAMES = new LinkedHashMap<>();

    static {
        NAMES.put(FaultAction.KILL, "kill");
        NAMES.put(FaultAction.STOP, "stop");
        NAMES.put(FaultAction.START, "start");
        NAMES.put(FaultAction.PAUSE, "pause");
        NAMES.put(FaultAction.RESUME, "resume");
        NAMES.put(FaultAction.ISOLATE, "isolate");
        NAMES.put(FaultAction.PARTITION, "partition");
        NAMES.put(FaultAction.ONE_WAY, "one-way");
        NAMES.put(FaultAction.CUT, "cut");
        NAMES.put(FaultAction.DELAY, "delay");
        NAMES.put(FaultAction.HEAL, "heal");
        NAMES.put(FaultAction.TRANSFER_LEADER, "transfer-leader");
        NAMES.put(FaultAction.SNAPSHOT, "snapshot");
        NAMES.put(FaultAction.CONTEND, "contend");
        NAMES.put(FaultAction.IDLE, "idle");
        NAMES.put(FaultAction.CLOCK_JUMP, "clock-jump");
        NAMES.put(FaultAction.REJOIN_EMPTY, "rejoin-empty");
        NAMES.put(FaultAction.ADD_MEMBER, "add-member");
        NAMES.put(FaultAction.PROMOTE, "promote");
        NAMES.put(FaultAction.REMOVE_MEMBER, "remove-member");
        NAMES.put(FaultAction.CATCH_UP, "catch-up");
        NAMES.put(FaultAction.NEMESIS_ERROR, "nemesis-error");
        NAMES.put(FaultAction.FINAL_PROBLEM, "final-problem");
    }

    @Test
    void everyActionHasItsTextNameAndParsesBackFromIt() {
        assertThat(NAMES.keySet()).as("every action is pinned").containsExactlyInAnyOrder(FaultAction.values());
        NAMES.forEach((action, text) -> {
            assertThat(action.text()).as(action.name()).isEqualTo(text);
            assertThat(action).as(action.name()).hasToString(text);
            assertThat(FaultAction.parse(text)).isSameAs(action);
        });
    }

    @Test
    void aFaultLineHoldsTheTextName() {
        Fault f = new Fault(400, FaultAction.ONE_WAY, "n1 -> n2", "dropped");
        String line =
                "{\"rec\":\"fault\",\"time\":400,\"action\":\"one-way\",\"target\":\"n1 -> n2\",\"detail\":\"dropped\"}";
        assertThat(History.toLine(f)).isEqualTo(line);
        assertThat(History.fromLine(line)).isEqualTo(f);
        assertThat(f.toString()).contains("action=one-way");
    }

    @Test
    void anUnknownNameIsAClearError() {
        assertThatThrownBy(() -> FaultAction.parse("restart"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown fault action 'restart' (known: kill, stop, start,")
                .hasMessageContaining("final-problem)");
        assertThatThrownBy(() -> FaultAction.parse("KILL")).hasMessageContaining("unknown fault action 'KILL'");
        assertThatThrownBy(() -> FaultAction.parse("ONE_WAY")).hasMessageContaining("unknown fault action 'ONE_WAY'");
        assertThat(Arrays.stream(FaultAction.values()).map(FaultAction::text)).doesNotHaveDuplicates();
    }

    @Test
    void aHistoryWithAnUnknownActionFailsToReadNamingTheLineAndTheAction() throws Exception {
        Path file = dir.resolve("h.jsonl");
        Files.writeString(
                file,
                "{\"rec\":\"fault\",\"time\":1,\"action\":\"kill\",\"target\":\"n1\",\"detail\":\"\"}\n"
                        + "{\"rec\":\"fault\",\"time\":2,\"action\":\"explode\",\"target\":\"n1\",\"detail\":\"\"}\n"
                        + "{\"rec\":\"fault\",\"time\":3,\"action\":\"start\",\"target\":\"n1\",\"detail\":\"\"}\n");
        assertThatThrownBy(() -> History.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("h.jsonl:2")
                .hasMessageContaining("unknown fault action 'explode'");
    }
}
