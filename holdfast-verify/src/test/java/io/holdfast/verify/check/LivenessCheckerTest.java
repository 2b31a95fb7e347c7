package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

class LivenessCheckerTest {
    private static CheckResult check(H h) {
        return new LivenessChecker().check(h.records());
    }

    /** probe holds lock-1 and releases at 100 ms while probe2 waits; probe2 granted at {@code grant}. */
    private static H handoff(double grant) {
        H h = new H().phase("final");
        h.acquire("probe", 0, "lock-1").granted(1, 10);
        H.Invoked w = h.acquire("probe2", 2, "lock-1");
        h.release("probe", 99, "lock-1", 10).released(100);
        w.granted(grant, 11);
        h.release("probe2", grant + 1, "lock-1", 11).released(grant + 2);
        h.get("probe", 1, "reg-0").reads(2, 3, 4);
        h.finalLock(0, "lock-1", List.of(), List.of(), 0, List.of("s1"));
        return h;
    }

    @Test
    void promptHandoffPasses() {
        CheckResult r = check(handoff(150));
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("handoffs", 1L).containsEntry("final probes", 3L);
    }

    @Test
    void aWaiterToldOfItsGrantBeforeTheReleaserHearsItsOkIsAHandoffToo() {
        CheckResult r = check(handoff(99.5)); // granted between the release's invoke (99) and OK (100)
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("handoffs", 1L);
    }

    @Test
    void stuckWaiterFails() {
        CheckResult r = check(handoff(100 + 6000));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("lock-1: waiter probe2:1 granted 6.000 s after probe:2 released");
    }

    @Test
    void waiterNeverGrantedFails() {
        H h = new H().phase("final");
        h.acquire("probe", 0, "lock-1").granted(1, 10);
        H.Invoked w = h.acquire("probe2", 2, "lock-1");
        h.release("probe", 99, "lock-1", 10).released(100);
        w.refused(30_000, "TIMEOUT");
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).hasSize(2).anyMatch(v -> v.contains("never granted"));
    }

    @Test
    void finalAcquireOrReadThatFailsIsAViolation() {
        H h = new H().phase("final");
        h.acquire("probe", 0, "lock-2").unknown(1);
        h.get("probe", 2, "reg-1").refused(3, "UNAVAILABLE");
        h.phase("workload").acquire("c1", 0, "lock-0").refused(1, "TIMEOUT");
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .hasSize(2)
                .anyMatch(v -> v.startsWith("lock-2: final-phase ACQUIRE by probe:1 did not succeed (UNKNOWN"))
                .anyMatch(v ->
                        v.startsWith("reg-1: final-phase REG_GET by probe:2 did not succeed (FAIL, error UNAVAILABLE"));
    }

    @Test
    void finalLockStillHeldFails() {
        H h = new H().finalLock(0, "lock-1", List.of("S"), List.of(17L), 0, List.of("S", "T"));
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).containsExactly("lock-1 still held by session S (token 17) at the end");
    }

    @Test
    void finalLockHeldByDeadSessionIsNamed() {
        H h = new H().finalLock(0, "lock-1", List.of("S"), List.of(17L), 2, List.of("T"));
        CheckResult r = check(h);
        assertThat(r.violations())
                .containsExactly(
                        "lock-1 still held by session S (token 17) at the end: held by an expired or closed session",
                        "lock-1 still has 2 waiter(s) at the end");
    }

    @Test
    void nothingFinalIsSkipped() {
        assertThat(check(new H()
                                .acquire("c1", 0, "lock-0")
                                .granted(1, 1)
                                .release(2)
                                .released(3))
                        .status())
                .isEqualTo(Status.SKIPPED);
    }
}
