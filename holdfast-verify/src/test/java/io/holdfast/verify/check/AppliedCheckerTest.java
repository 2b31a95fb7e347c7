package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Applied;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AppliedCheckerTest {
    private final AppliedChecker checker = new AppliedChecker();

    @Test
    void replicasThatAppliedTheSameEntriesPass() {
        List<Record> r = new ArrayList<>();
        for (String n : List.of("n1", "n2", "n3")) {
            r.add(applied(n, 1, 1, "e1", "t1"));
            r.add(applied(n, 2, 1, "e2", "t2"));
        }
        CheckResult result = checker.check(r);
        assertThat(result.status()).isEqualTo(Status.PASS);
        assertThat(result.counts()).containsEntry("indices compared", 2L).containsEntry("entries", 6L);
    }

    @Test
    void aReplicaThatAppliedAnotherEntryAtAnIndexFails() {
        // the one-way run: n2 kept an old leader's entry at index 70 while n1 and n3 applied the new one's
        List<Record> r = List.of(
                applied("n1", 69, 2, "e69", "t69"),
                applied("n2", 69, 2, "e69", "t69"),
                applied("n3", 69, 2, "e69", "t69"),
                applied("n1", 70, 3, "new", "t70"),
                applied("n2", 70, 2, "old", "x70"),
                applied("n3", 70, 3, "new", "t70"),
                applied("n1", 71, 3, "e71", "t71"),
                applied("n2", 71, 3, "e71", "x71"),
                applied("n3", 71, 3, "e71", "t71"));
        CheckResult result = checker.check(r);
        assertThat(result.status()).isEqualTo(Status.FAIL);
        assertThat(result.violations().get(0))
                .contains("different entries at index 70")
                .contains("n2 term 2 entry old");
        assertThat(result.violations().get(1))
                .contains("same entry at index 71")
                .contains("different tables");
        assertThat(result.counts()).containsEntry("divergent indices", 2L);
    }

    @Test
    void aSnapshotThatCarriesAnotherTableFails() {
        // n1 loads at index 799 a snapshot whose table no replica that applied 799 holds
        List<Record> r = List.of(
                applied("n2", 799, 7, "e799", "good"),
                applied("n3", 799, 7, "e799", "good"),
                new Applied(0, "n1", 799, 7, null, "bad"));
        CheckResult result = checker.check(r);
        assertThat(result.status()).isEqualTo(Status.FAIL);
        assertThat(result.violations().get(0)).contains("index 799").contains("n1 snapshot of term 7, table bad");
    }

    @Test
    void aNodeThatReappliesAnIndexDifferentlyAfterARestartFails() {
        List<Record> r = List.of(
                applied("n1", 5, 1, "e5", "t5"), applied("n2", 5, 1, "e5", "t5"), applied("n1", 5, 2, "other", "t5"));
        CheckResult result = checker.check(r);
        assertThat(result.status()).isEqualTo(Status.FAIL);
        assertThat(result.violations().get(0)).contains("node n1 applied two different entries at index 5");
    }

    @Test
    void manyDivergentIndicesAreSummedUp() {
        List<Record> r = new ArrayList<>();
        for (long i = 1; i <= 20; i++) {
            r.add(applied("n1", i, 1, "a" + i, "ta" + i));
            r.add(applied("n2", i, 1, "b" + i, "tb" + i));
        }
        CheckResult result = checker.check(r);
        assertThat(result.status()).isEqualTo(Status.FAIL);
        assertThat(result.violations()).hasSize(6);
        assertThat(result.violations().get(5)).contains("20 violations in all");
    }

    @Test
    void withoutTwoReplicasAtOneIndexItIsInconclusive() {
        CheckResult result = checker.check(List.of(applied("n1", 1, 1, "e", "t"), applied("n2", 2, 1, "e", "t")));
        assertThat(result.status()).isEqualTo(Status.INCONCLUSIVE);
    }

    @Test
    void aRunWithoutTheTraceIsSkipped() {
        assertThat(checker.check(List.<Record>of()).status()).isEqualTo(Status.SKIPPED);
    }

    private static Applied applied(String node, long index, long term, String entry, String table) {
        return new Applied(0, node, index, term, entry, table);
    }
}
