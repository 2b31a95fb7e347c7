package io.holdfast.examples.coupons;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The demo end to end: instance processes over an H2 database served on loopback and a real Holdfast node,
 * every strategy on the same workload, with the holder paused past its lease.
 */
class CouponsDemoTest {
    /** Under target/, so that the instances' logs outlive a failing test. */
    private Path dir;

    @BeforeEach
    void workDir(TestInfo test) throws IOException {
        dir = Path.of(
                "target", "coupons-demo", test.getTestMethod().orElseThrow().getName());
        if (Files.exists(dir)) {
            try (Stream<Path> old = Files.walk(dir)) {
                for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** Small enough for CI, contended enough that {@code none} goes wrong: 12 threads on one campaign. */
    private CouponsDemo.Options small(List<Strategy> strategies, boolean pause, boolean fencing) {
        CouponsDemo.Options d = CouponsDemo.Options.defaults(dir);
        return new CouponsDemo.Options(
                strategies,
                3,
                4,
                240,
                60,
                1,
                1,
                Duration.ofMillis(2),
                pause,
                fencing,
                null,
                null,
                null,
                null,
                d.lease(),
                d.sessionTtl(),
                d.lockWait(),
                d.maxAttempts(),
                7L,
                dir);
    }

    private static CouponsDemo.Result result(CouponsDemo.Report report, Strategy s) {
        return report.results().stream()
                .filter(r -> r.strategy() == s)
                .findFirst()
                .orElseThrow();
    }

    @Test
    void safeStrategiesHandOutEachCouponOnceAndTheStaleWriteIsRefused_noneDoesNot() throws Exception {
        StringWriter text = new StringWriter();
        CouponsDemo.Report report =
                CouponsDemo.run(small(List.of(Strategy.values()), true, true), new PrintWriter(text));
        String out = text.toString();

        for (Strategy s : List.of(Strategy.PESSIMISTIC, Strategy.OPTIMISTIC)) {
            CouponsDemo.Result r = result(report, s);
            assertThat(r.audit().clean()).as(s + " audit\n" + out).isTrue();
            assertThat(r.count(Outcome.ERROR)).as(s + " errors\n" + out).isZero();
            assertThat(r.count(Outcome.REDEEMED))
                    .as(s + ": every coupon sold, each once")
                    .isEqualTo(60);
            assertThat(r.audit().redemptions()).isEqualTo(60);
            assertThat(r.audit().counterDrift())
                    .as(s + ": the campaign's counter matches")
                    .isZero();
            assertThat(r.requests()).as("every request answered").isEqualTo(480);
            assertThat(r.pause())
                    .as(s + ": the victim was paused at a write\n" + out)
                    .isNotNull();
        }
        CouponsDemo.Result pessimistic = result(report, Strategy.PESSIMISTIC);
        assertThat(pessimistic.pause().resumed()).as(out).startsWith("refused: the row carries a newer fencing token");
        assertThat(pessimistic.pause().stoppedMillis())
                .as("stopped past the lease and the TTL")
                .isGreaterThan(2000);
        assertThat(pessimistic.count(Outcome.STALE_REFUSED)).isGreaterThanOrEqualTo(1);
        CouponsDemo.Result optimistic = result(report, Strategy.OPTIMISTIC);
        assertThat(optimistic.pause().resumed()).as(out).startsWith("conflict: the campaign's version");
        assertThat(optimistic.conflicts()).isGreaterThanOrEqualTo(1);

        CouponsDemo.Result none = result(report, Strategy.NONE);
        assertThat(none.audit().doubleRedemptions())
                .as("none hands coupons out twice\n" + out)
                .isPositive();
        assertThat(none.pause().resumed()).startsWith("written unchecked");
        assertThat(report.ok()).as(out).isTrue();
        assertThat(out).contains("pessimistic and optimistic: no coupon twice");
    }

    /** The fencing check is what refuses the stale write: without it, the paused holder hands a coupon out twice. */
    @Test
    void withoutTheFencingCheckThePausedHolderRedeemsAStaleCoupon() throws Exception {
        StringWriter text = new StringWriter();
        CouponsDemo.Report report =
                CouponsDemo.run(small(List.of(Strategy.PESSIMISTIC), true, false), new PrintWriter(text));
        CouponsDemo.Result r = result(report, Strategy.PESSIMISTIC);
        assertThat(r.pause().resumed()).as(text.toString()).startsWith("written unchecked");
        assertThat(r.audit().doubleRedemptions()).as(text.toString()).isPositive();
        assertThat(report.ok()).isFalse();
        assertThat(text.toString()).contains("VIOLATION");
    }

    /** Defaults but for the fields a validation test changes. */
    private CouponsDemo.Options options(
            List<Strategy> strategies, int instances, int stock, int campaigns, boolean pause, String db) {
        CouponsDemo.Options d = CouponsDemo.Options.defaults(dir);
        return new CouponsDemo.Options(
                strategies,
                instances,
                8,
                10,
                stock,
                campaigns,
                1,
                d.work(),
                pause,
                true,
                db,
                null,
                null,
                null,
                d.lease(),
                d.sessionTtl(),
                d.lockWait(),
                10,
                1,
                dir);
    }

    @Test
    void badOptionsAreRefusedBeforeAnythingStarts() {
        List<Strategy> none = List.of(Strategy.NONE);
        assertThatThrownBy(() -> options(List.of(), 4, 10, 1, false, null).validate())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--strategy");
        assertThatThrownBy(() -> options(none, 1, 10, 1, true, null).validate())
                .hasMessage("--instances must be between 2 and 16, not 1");
        assertThatThrownBy(() -> options(none, 4, 1_000_000, 10, false, null).validate())
                .hasMessageContaining("at most 2,000,000 coupons");
        assertThatThrownBy(() -> options(none, 4, 10, 1, false, "postgres://x").validate())
                .hasMessageContaining("--db must be a JDBC URL");
        assertThat(options(none, 4, 10, 1, false, null))
                .as("and a good one passes")
                .satisfies(o -> o.validate());
        assertThatThrownBy(() -> Strategy.parse("pesimistic"))
                .hasMessage("unknown strategy 'pesimistic': expected pessimistic, optimistic or none");
    }
}
