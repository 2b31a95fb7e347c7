package io.holdfast.examples.coupons;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same service over a real PostgreSQL (run from a jar on loopback) instead of H2. */
class CouponsPostgresTest {
    @TempDir
    Path dir;

    @Test
    void safeStrategiesHoldOnPostgres() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setServerConfig("fsync", "off")
                .setPGStartupWait(Duration.ofSeconds(60))
                .start()) {
            CouponsDemo.Options d = CouponsDemo.Options.defaults(dir);
            CouponsDemo.Options options = new CouponsDemo.Options(
                    List.of(Strategy.PESSIMISTIC, Strategy.OPTIMISTIC),
                    3,
                    4,
                    200,
                    40,
                    2,
                    1,
                    Duration.ofMillis(1),
                    true,
                    true,
                    "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres",
                    "postgres",
                    null,
                    null,
                    d.lease(),
                    d.sessionTtl(),
                    d.lockWait(),
                    d.maxAttempts(),
                    3L,
                    dir);
            StringWriter text = new StringWriter();
            CouponsDemo.Report report = CouponsDemo.run(options, new PrintWriter(text));
            String out = text.toString();
            assertThat(out).contains("database: jdbc:postgresql://", "(PostgreSQL ");
            for (CouponsDemo.Result r : report.results()) {
                assertThat(r.clean()).as(r.strategy() + "\n" + out).isTrue();
                assertThat(r.count(Outcome.REDEEMED))
                        .as(r.strategy() + ": 2 campaigns x 40 coupons")
                        .isEqualTo(80);
                assertThat(r.audit().counterDrift()).isZero();
                assertThat(r.pause().refused()).as(r.strategy() + "\n" + out).isTrue();
            }
            assertThat(report.ok()).isTrue();
        }
    }
}
