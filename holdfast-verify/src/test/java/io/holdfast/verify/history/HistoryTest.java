package io.holdfast.verify.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {
    @TempDir
    Path dir;

    @Test
    void everyRecordTypeSurvivesAWriteAndARead() throws Exception {
        Op invoke = Op.acquire("c1", 7, 100, "workload", "lock-0", Op.Kind.LOCK, 1, 0, false, 500);
        List<Record> records = List.of(
                new Meta(1, "baseline", 42, 3, 4, null, 3000, Map.of("names", "2"), Set.of(Expectation.HEAL_CATCH_UP)),
                invoke,
                invoke.complete(Op.Type.OK, 200).withToken(12),
                Op.lost("c1", 8, 250, "workload", "lock-0", Op.Kind.LOCK, 1, 0, 12, "SESSION_EXPIRED"),
                new StoreWrite(300, StoreWrite.FENCED, "lock-0", 12, "c1", 7, StoreWrite.ENTER, true, 11),
                new Fault(400, "kill", "n1", "leader"),
                new FinalLock(500, "lock-0", List.of("s1"), List.of(12L), 0, List.of("s1", "s2")),
                new CaughtUp(600, "n3", 450, "n1", 77, 78, true),
                new AddRetried(700, "n4", 620, "n1", 650, 2, true, "changed add n4"));
        Path file = dir.resolve("h.jsonl");
        History.write(file, records);

        assertThat(History.read(file)).containsExactlyElementsOf(records);
    }

    @Test
    void aMetaSavedWithoutExpectationsReadsAsExpectingNothing() throws Exception {
        Path old = dir.resolve("old.jsonl");
        Files.writeString(old, "{\"rec\":\"meta\",\"time\":1,\"scenario\":\"client-paused\",\"seed\":1}\n");
        assertThat(History.read(old))
                .singleElement()
                .isInstanceOfSatisfying(Meta.class, m -> assertThat(m.expects()).isEmpty());
    }

    @Test
    void aTornLastLineIsSkippedButADamagedMiddleLineIsAnError() throws Exception {
        Op op = Op.regGet("c2", 1, 5, "workload", "reg");
        Path torn = dir.resolve("torn.jsonl");
        Files.writeString(torn, History.toLine(op) + "\n{\"rec\":\"op\",\"type\":\"OK\",\"proc");
        assertThat(History.read(torn)).containsExactly(op);

        Path damaged = dir.resolve("damaged.jsonl");
        Files.writeString(damaged, "{\"rec\":\"nope\"}\n" + History.toLine(op) + "\n");
        assertThatThrownBy(() -> History.read(damaged))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("damaged.jsonl:1");
    }

    @Test
    void theWriterAppendsAndReadAllOrdersByTime() throws Exception {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        try (History.Writer w = new History.Writer(a)) {
            w.append(new Fault(30, "kill", "n2", ""));
            w.append(new Fault(10, "pause", "c1", ""));
        }
        try (History.Writer w = new History.Writer(b)) {
            w.append(new Fault(20, "heal", "all", ""));
        }
        assertThat(History.readAll(List.of(a, b))).extracting(Record::time).containsExactly(10L, 20L, 30L);
    }
}
