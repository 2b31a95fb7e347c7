package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import org.junit.jupiter.api.Test;

class DataCheckerTest {
    private static CheckResult check(H h) {
        return new DataChecker().check(h.records());
    }

    @Test
    void tokensRisingAcrossKeysPass() {
        // concurrent grants may come in either order
        H h = new H().hold("c1", 0, "lock-0", 4).hold("c2", 4, "lock-1", 9).hold("c3", 4.5, "lock-2", 8);
        assertThat(check(h).status()).isEqualTo(Status.PASS);
    }

    @Test
    void tokensGoingBackAfterRestartFails() {
        H h = new H().hold("c1", 0, "lock-0", 40).hold("c2", 100, "lock-1", 2);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("token went backwards: c2:1 got token 2 on lock-1")
                .contains("after c1:1 had got token 40 on lock-0");
    }

    @Test
    void acknowledgedWriteSurvives() {
        H h = new H();
        h.cas("c1", 0, "reg-0", 0, 5).wrote(1, 1);
        h.cas("c1", 2, "reg-0", 1, 6).wrote(3, 2);
        h.phase("final").get("probe", 10, "reg-0").reads(11, 2, 6);
        assertThat(check(h).status()).isEqualTo(Status.PASS);
    }

    @Test
    void registerLostWriteFails() {
        H h = new H();
        h.cas("c1", 0, "reg-0", 0, 5).wrote(1, 1);
        h.cas("c1", 2, "reg-0", 1, 6).wrote(3, 2);
        h.phase("final").get("probe", 10, "reg-0").reads(11, 1, 5);
        CheckResult r = check(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("reg-0: final read probe:1")
                .contains("saw version 1", "c1:2", "version 2");
    }

    @Test
    void nothingIsSkipped() {
        assertThat(check(new H()).status()).isEqualTo(Status.SKIPPED);
    }
}
