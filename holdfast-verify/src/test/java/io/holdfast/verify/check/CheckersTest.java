package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Record;
import java.util.List;
import org.junit.jupiter.api.Test;

class CheckersTest {
    @Test
    void allRunsEveryCheckerInOrder() {
        assertThat(Checkers.all())
                .extracting(Checker::name)
                .containsExactly(
                        "fencing",
                        "linearizability",
                        "keys",
                        "leases",
                        "elections",
                        "liveness",
                        "data",
                        "replicas",
                        "applied",
                        "catch-up",
                        "heal-catch-up",
                        "interrupted-add",
                        "availability");
        List<CheckResult> results = Checkers.run(new H()
                .acquire("c1", 0, "lock-0")
                .granted(1, 1)
                .release(2)
                .released(3)
                .records());
        assertThat(results)
                .extracting(CheckResult::checker, CheckResult::status)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("fencing", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("linearizability", Status.PASS),
                        org.assertj.core.groups.Tuple.tuple("keys", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("leases", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("elections", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("liveness", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("data", Status.PASS),
                        org.assertj.core.groups.Tuple.tuple("replicas", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("applied", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("catch-up", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("heal-catch-up", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("interrupted-add", Status.SKIPPED),
                        org.assertj.core.groups.Tuple.tuple("availability", Status.SKIPPED));
    }

    @Test
    void aCheckerThatThrowsIsInconclusiveNeverPass() {
        Checker broken = new Checker() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public CheckResult check(List<Record> records) {
                throw new IllegalStateException("boom");
            }
        };
        CheckResult r = Checkers.runOne(broken, List.of());
        assertThat(r.status()).isEqualTo(Status.INCONCLUSIVE);
        assertThat(r.passed()).isFalse();
        assertThat(r.detail()).contains("boom");
    }
}
