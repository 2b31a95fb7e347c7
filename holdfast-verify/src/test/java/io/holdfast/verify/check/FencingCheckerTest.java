package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Expectation;
import org.junit.jupiter.api.Test;

class FencingCheckerTest {

    private static CheckResult check(H h) {
        return new FencingChecker().check(h.records());
    }

    /** Two sections in order on both stores; c1's late write refused by the fenced store. */
    private static H orderly() {
        return new H()
                .fenced(1, "c1", 1)
                .enters("lock-0", 1)
                .unfenced(1, "c1", 1)
                .enters("lock-0", 1)
                .fenced(2, "c1", 1)
                .exits("lock-0", 1)
                .unfenced(2, "c1", 1)
                .exits("lock-0", 1)
                .fenced(3, "c2", 1)
                .enters("lock-0", 2)
                .fenced(4, "c2", 1)
                .exits("lock-0", 2)
                .fenced(5, "c1", 1)
                .refused()
                .exits("lock-0", 1);
    }

    @Test
    void orderlyWritesPass() {
        CheckResult r = check(orderly());
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts())
                .containsEntry("accepted", 4L)
                .containsEntry("stale writes refused", 1L)
                .containsEntry("unfenced overlaps", 0L);
    }

    @Test
    void acceptedTokenGoingDownFails() {
        H h = orderly().fenced(6, "c3", 1).enters("lock-0", 1);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).anyMatch(v -> v.startsWith("lock-0: fenced store accepted token 1 (c3:1 enter"));
    }

    @Test
    void sectionFencedOffIsNoOverlap() {
        // c1 paused inside its section; c2 took over; c1's exit was refused
        H h = new H()
                .fenced(1, "c1", 1)
                .enters("lock-0", 1)
                .fenced(2, "c2", 1)
                .enters("lock-0", 2)
                .fenced(3, "c2", 1)
                .exits("lock-0", 2)
                .fenced(4, "c1", 1)
                .refused()
                .exits("lock-0", 1);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("stale writes refused", 1L);
    }

    @Test
    void overlapInTheFencedStoreFails() {
        H h = new H()
                .fenced(1, "c1", 1)
                .enters("lock-0", 1)
                .fenced(2, "c2", 1)
                .enters("lock-0", 2)
                .fenced(3, "c1", 1)
                .exits("lock-0", 2)
                .fenced(4, "c2", 1)
                .exits("lock-0", 2);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .anyMatch(v -> v.startsWith("lock-0: overlap in the fenced store: c2:1 (token 2) wrote enter")
                        && v.contains("inside the section of c1:1"));
    }

    @Test
    void tokenReusedByTwoAcquiresFails() {
        H h = new H()
                .fenced(1, "c1", 1)
                .enters("lock-0", 7)
                .fenced(2, "c1", 1)
                .exits("lock-0", 7)
                .fenced(3, "c2", 4)
                .enters("lock-1", 7)
                .fenced(4, "c2", 4)
                .exits("lock-1", 7);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("token 7 used by 2 acquires: c1:1")
                .contains("c2:4");
    }

    @Test
    void tokenReusedByTwoAcquireOksFails() {
        H h = new H();
        h.acquire("c1", 0, "lock-0").granted(1, 3);
        h.acquire("c2", 0, "lock-2").granted(2, 3);
        h.fenced(3, "c1", 1).enters("lock-0", 3);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).singleElement().asString().startsWith("token 3 used by 2 acquires");
    }

    @Test
    void phaseAcceptedTwiceFails() {
        H h = orderly().fenced(4.5, "c2", 1).exits("lock-0", 2);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).singleElement().asString().contains("lock-0: c2:1 exit (token 2) accepted twice");
    }

    @Test
    void unfencedOverlapIsCountedNotAViolation() {
        H h = orderly()
                .unfenced(3, "c2", 1)
                .enters("lock-0", 2)
                .unfenced(3.5, "c1", 2)
                .enters("lock-0", 3)
                .unfenced(4, "c2", 1)
                .exits("lock-0", 2);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("unfenced overlaps", 1L);
    }

    @Test
    void aLeadersRepeatedWorkWritesAreNoDuplicatesAndItsLateOnesCountAsUnfencedOverlaps() {
        H h = new H()
                .fenced(1, "c1", 1)
                .enters("election-0", 5)
                .fenced(2, "c1", 1)
                .works("election-0", 5)
                .fenced(3, "c1", 1)
                .works("election-0", 5)
                .unfenced(4, "c2", 1)
                .enters("election-0", 7)
                .fenced(5, "c2", 1)
                .enters("election-0", 7)
                .unfenced(6, "c1", 1)
                .works("election-0", 5) // c1 paused, wakes: late
                .fenced(7, "c1", 1)
                .refused()
                .works("election-0", 5)
                .fenced(8, "c2", 1)
                .works("election-0", 7)
                .fenced(9, "c2", 1)
                .exits("election-0", 7);
        CheckResult r = check(h);
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts())
                .containsEntry("accepted", 6L)
                .containsEntry("stale writes refused", 1L)
                .containsEntry("unfenced overlaps", 1L);
        // a work write of another leader accepted inside a section is an overlap, as any write is
        H inside = new H()
                .fenced(1, "c1", 1)
                .enters("election-0", 5)
                .fenced(2, "c2", 1)
                .works("election-0", 7)
                .fenced(3, "c1", 1)
                .exits("election-0", 7);
        assertThat(check(inside).violations()).anySatisfy(v -> assertThat(v).contains("overlap in the fenced store"));
    }

    @Test
    void pauseScenarioWithoutRefusedWriteIsInconclusive() {
        H h = oneSection("client-paused", Expectation.STALE_WRITE_REFUSED);
        assertThat(check(h).status()).isEqualTo(Status.INCONCLUSIVE);
        // a refused stale write but no overlap in the unfenced twin: the fault still did not bite
        assertThat(check(orderly().meta("client-paused", Expectation.STALE_WRITE_REFUSED))
                        .status())
                .isEqualTo(Status.INCONCLUSIVE);
        H bitten = orderly()
                .meta("client-paused", Expectation.STALE_WRITE_REFUSED)
                .unfenced(3, "c2", 1)
                .enters("lock-0", 2)
                .unfenced(3.5, "c1", 2)
                .enters("lock-0", 3)
                .unfenced(4, "c2", 1)
                .exits("lock-0", 2);
        assertThat(check(bitten).status()).isEqualTo(Status.PASS);
    }

    @Test
    void theScenarioExpectationDecidesNotItsName() {
        H expected = oneSection("any-name", Expectation.STALE_WRITE_REFUSED);
        assertThat(check(expected).status()).isEqualTo(Status.INCONCLUSIVE);
        assertThat(check(expected).detail()).contains("expects STALE_WRITE_REFUSED", "refused 0, overlaps 0");
        H named = oneSection("client-paused");
        assertThat(check(named).status()).isEqualTo(Status.PASS);
    }

    /** One orderly section of c1 in the fenced store, in a run of {@code scenario}. */
    private static H oneSection(String scenario, Expectation... expects) {
        return new H()
                .meta(scenario, expects)
                .fenced(1, "c1", 1)
                .enters("lock-0", 1)
                .fenced(2, "c1", 1)
                .exits("lock-0", 1);
    }

    @Test
    void noWritesIsSkipped() {
        assertThat(check(new H()).status()).isEqualTo(Status.SKIPPED);
    }
}
