package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.StoreWrite;
import org.junit.jupiter.api.Test;

class ElectionCheckerTest {
    private static final String E = "election-0";

    private final ElectionChecker checker = new ElectionChecker();

    /**
     * c1 leads with epoch 5 and is paused inside its third step; c2, waiting since t=50, is elected
     * with epoch 7 at t=3300 and leads three steps, then resigns. c1 wakes at t=4000: its step's
     * unfenced write lands behind epoch 7, its fenced write is refused, and it stops; its client
     * tells it of the loss, its resignation fails. Observer c3 sees 5, then 7, then nobody.
     */
    private static H pausedLeader() {
        H h = new H().meta("election", Expectation.STALE_WRITE_REFUSED, Expectation.DEPOSED_LEADER_REFUSED);
        H.Invoked c1 = h.acquire("c1", 0, E);
        c1.granted(10, 5);
        step(h, "c1", 15, 5, 1, StoreWrite.ENTER, 0);
        step(h, "c1", 120, 5, 1, StoreWrite.WORK, 5);
        h.valid("c1", 230, H.lock(E), 5).work("c1", 230, E, 5); // paused here until t=4000
        h.unfenced(4001, "c1", 1).after(7).works(E, 5);
        h.fenced(4002, "c1", 1).after(7).refused().works(E, 5);
        h.lost("c1", 4010, E, 5, "SESSION_EXPIRED: the session expired");
        h.release("c1", 4020, E, 5).refused(4030, "LOST");

        H.Invoked c2 = h.acquire("c2", 50, E);
        c2.granted(3300, 7);
        step(h, "c2", 3305, 7, 1, StoreWrite.ENTER, 5);
        step(h, "c2", 3400, 7, 1, StoreWrite.WORK, 7);
        step(h, "c2", 3500, 7, 1, StoreWrite.EXIT, 7);
        h.release("c2", 3510, E, 7).released(3520);

        h.observed("c3", 12, E, 5, null).observed("c3", 14, E, 5, "c1:1");
        h.observed("c3", 3303, E, 7, null).observed("c3", 3304, E, 7, "c2:1");
        h.observed("c3", 3525, E, 0, null);
        return h;
    }

    /** One step: VALID and WORK at t, then the unfenced write and the fenced one (both accepted). */
    private static void step(H h, String p, double t, long epoch, long seq, String phase, long highest) {
        h.valid(p, t, H.lock(E), epoch).work(p, t, E, epoch);
        h.unfenced(t + 1, p, seq).after(highest).writes(phase, E, epoch);
        h.fenced(t + 2, p, seq).after(highest).writes(phase, E, epoch);
    }

    @Test
    void aPausedLeaderWhoseLateWriteIsRefusedPasses() {
        CheckResult r = checker.check(pausedLeader().records());
        assertThat(r.violations()).isEmpty();
        assertThat(r.status()).isEqualTo(Status.PASS);
        assertThat(r.counts())
                .containsEntry("campaigns", 2L)
                .containsEntry("leaderships", 2L)
                .containsEntry("epochs", 2L)
                .containsEntry("leader steps", 6L)
                .containsEntry("stale writes refused", 1L)
                .containsEntry("stale writes unfenced took", 1L)
                .containsEntry("losses told", 1L)
                .containsEntry("resignations", 2L)
                .containsEntry("leaders observed", 4L);
    }

    @Test
    void aLeaderThatActsAfterItsWriteWasRefusedFails() {
        H h = pausedLeader();
        h.work("c1", 4005, E, 5); // ignores the refusal: one more step
        h.unfenced(4006, "c1", 1).after(7).works(E, 5);
        h.fenced(4007, "c1", 1).after(7).refused().works(E, 5);
        CheckResult r = checker.check(h.records());
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .isEqualTo("election-0: c1 led with epoch 5 and acted at t+4005.000ms after it knew its leadership"
                        + " was over (the fenced store refused its work behind epoch 7 at t+4002.000ms): 1 step(s)"
                        + " after that; the unfenced store took 1 of their writes behind epoch 7");
    }

    @Test
    void aLeaderThatActsAfterItWasToldOfTheLossFails() {
        // c1's session expired while it was cut off; nothing refused it (nobody wrote since), but
        // its client told it of the loss, and it went on.
        H h = new H().meta("partition");
        h.acquire("c1", 0, E).granted(10, 5);
        step(h, "c1", 15, 5, 1, StoreWrite.ENTER, 0);
        h.lost("c1", 500, E, 5, "SESSION_EXPIRED: the session expired");
        step(h, "c1", 600, 5, 1, StoreWrite.WORK, 5);
        step(h, "c1", 700, 5, 1, StoreWrite.WORK, 5);
        CheckResult r = checker.check(h.records());
        assertThat(r.violations())
                .singleElement()
                .satisfies(v -> assertThat(v)
                        .contains("c1 led with epoch 5 and acted at t+600.000ms")
                        .contains("told it was lost (SESSION_EXPIRED) at t+500.000ms")
                        .contains("2 step(s) after that"));
    }

    @Test
    void aStepAfterResigningFails() {
        H h = new H();
        h.acquire("c1", 0, E).granted(10, 5);
        step(h, "c1", 15, 5, 1, StoreWrite.ENTER, 0);
        h.release("c1", 100, E, 5).released(110);
        step(h, "c1", 120, 5, 1, StoreWrite.WORK, 5);
        assertThat(checker.check(h.records()).violations())
                .singleElement()
                .satisfies(v -> assertThat(v).contains("(resigned at t+100.000ms)"));
    }

    @Test
    void theFencedStoreAcceptingAnOlderEpochAfterANewerFails() {
        H h = pausedLeader();
        h.fenced(4003, "c1", 1).after(7).works(E, 5); // a store that did not fence
        CheckResult r = checker.check(h.records());
        assertThat(r.violations())
                .anySatisfy(v -> assertThat(v)
                        .startsWith("election-0: the fenced store accepted epoch 5 (c1:1 work at t+4003.000ms)"
                                + " after epoch 7 (c2:1 exit at t+3502.000ms)")
                        .endsWith("(A-B-A)"));
    }

    @Test
    void epochsThatDoNotRiseFail() {
        H h = new H();
        h.acquire("c1", 0, E).granted(10, 9);
        h.observed("c3", 15, E, 9, "c1:1");
        h.release("c1", 20, E, 9).released(30);
        h.acquire("c2", 40, E).granted(50, 8); // invoked after epoch 9 was granted
        CheckResult r = checker.check(h.observed("c3", 60, E, 8, "c2:1").records());
        assertThat(r.violations())
                .anySatisfy(v -> assertThat(v)
                        .isEqualTo("election-0: c2:1 was elected with epoch 8 (campaign invoked t+40.000ms)"
                                + " although epoch 9 had been granted to c1:1 at t+10.000ms: epochs must rise"));
        assertThat(r.violations()).anySatisfy(v -> assertThat(v).contains("leaders went back"));
    }

    @Test
    void anEpochGrantedTwiceFails() {
        H h = new H();
        h.acquire("c1", 0, E).granted(10, 5);
        h.acquire("c2", 0, E).granted(12, 5);
        h.work("c1", 20, E, 5);
        assertThat(checker.check(h.records()).violations())
                .anySatisfy(v -> assertThat(v)
                        .isEqualTo("epoch 5 granted to 2 campaigns: c1:1 on election-0, c2:1 on" + " election-0"));
    }

    @Test
    void anObserverToldOfAnEpochAgainAfterItEndedFails() {
        H h = pausedLeader();
        h.observed("c3", 3600, E, 7, "c2:1"); // after "nobody" at 3525
        assertThat(checker.check(h.records()).violations())
                .singleElement()
                .isEqualTo("election-0: observer c3 was told at t+3600.000ms of epoch 7 again, after it had been"
                        + " told that nobody leads at t+3525.000ms: one of these reports is false");
    }

    @Test
    void anObservedEpochNobodyWasGrantedFails() {
        H h = pausedLeader();
        h.observed("c4", 3000, E, 6, null);
        assertThat(checker.check(h.records()).violations())
                .singleElement()
                .isEqualTo("election-0: observer c4 was told at t+3000.000ms of epoch 6, but no campaign of"
                        + " election-0 was granted that epoch");
    }

    @Test
    void anObservedValueOfAnotherCampaignFails() {
        H h = pausedLeader();
        h.observed("c4", 3450, E, 7, "c1:1");
        assertThat(checker.check(h.records()).violations())
                .singleElement()
                .satisfies(v -> assertThat(v)
                        .startsWith("election-0: observer c4 was told at t+3450.000ms of epoch 7 (value c1:1), but")
                        .contains("granted to c2:1"));
    }

    @Test
    void aCampaignOfUnknownOutcomeExplainsWhatObserversSaw() {
        H h = new H();
        h.acquire("c1", 0, E).unknown(3000); // the answer never came; it was elected and proclaimed all the same
        h.work("c2", 1, E, 4); // makes election-0 an election
        h.observed("c3", 100, E, 11, null).observed("c3", 110, E, 11, "c1:1");
        assertThat(checker.check(h.records()).status()).isEqualTo(Status.PASS);

        H failed = new H();
        failed.acquire("c1", 0, E).refused(3000, "TIMEOUT");
        failed.observed("c3", 110, E, 11, "c1:1");
        assertThat(checker.check(failed.records()).violations())
                .singleElement()
                .satisfies(v -> assertThat(v).endsWith("but campaign c1:1 failed (TIMEOUT)"));
    }

    @Test
    void theElectionScenarioWithoutARefusedWriteIsInconclusive() {
        H h = new H().meta("election", Expectation.STALE_WRITE_REFUSED, Expectation.DEPOSED_LEADER_REFUSED);
        h.acquire("c1", 0, E).granted(10, 5);
        step(h, "c1", 15, 5, 1, StoreWrite.ENTER, 0);
        h.observed("c3", 20, E, 5, "c1:1");
        CheckResult r = checker.check(h.records());
        assertThat(r.status()).isEqualTo(Status.INCONCLUSIVE);
        assertThat(r.detail()).contains("refused 0");
    }

    @Test
    void aRunWithoutElectionsIsSkipped() {
        assertThat(checker.check(new H()
                                .acquire("c1", 0, "lock-0")
                                .granted(1, 1)
                                .release(2)
                                .released(3)
                                .records())
                        .status())
                .isEqualTo(Status.SKIPPED);
    }
}
