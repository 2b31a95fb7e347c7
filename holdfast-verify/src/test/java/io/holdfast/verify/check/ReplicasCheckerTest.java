package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Replica;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicasCheckerTest {
    private final ReplicasChecker checker = new ReplicasChecker();

    @Test
    void identicalReplicasAtOneIndexPass() {
        CheckResult r = checker.check(List.of(rep("n1", 50, "aa"), rep("n2", 50, "aa"), rep("n3", 50, "aa")));
        assertThat(r.status()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("replicas compared", 3L);
    }

    @Test
    void aReplicaWithAnotherTableAtTheSameIndexFails() {
        CheckResult r = checker.check(List.of(rep("n1", 50, "aa"), rep("n2", 50, "bb"), rep("n3", 50, "aa")));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .contains("index 50")
                .contains("n2=bb");
    }

    @Test
    void replicasThatNeverSettledOnOneIndexAreInconclusive() {
        CheckResult r = checker.check(List.of(rep("n1", 50, "aa"), rep("n2", 51, "bb")));
        assertThat(r.status()).isEqualTo(Status.INCONCLUSIVE);
    }

    @Test
    void aRunWithoutReplicaStatesIsSkipped() {
        assertThat(checker.check(List.<Record>of()).status()).isEqualTo(Status.SKIPPED);
    }

    private static Replica rep(String node, long index, String crc) {
        return new Replica(1, node, index, crc, 1);
    }
}
