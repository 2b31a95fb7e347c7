package io.holdfast.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockClient;
import io.holdfast.spring.autoconfigure.HoldfastAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The health indicator and the session gauge, UP and then DOWN when the service goes away. */
class HealthTest {
    @Test
    void upWhileTheServiceAnswersDownOnceItIsGone() {
        TestServer own = TestServer.own();
        try {
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(
                            HoldfastAutoConfiguration.class,
                            MetricsAutoConfiguration.class,
                            SimpleMetricsExportAutoConfiguration.class))
                    .withPropertyValues(
                            "holdfast.uri=" + own.uri, "holdfast.session-ttl=2s", "holdfast.request-timeout=1s")
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        HoldfastHealthIndicator indicator = context.getBean(HoldfastHealthIndicator.class);
                        Health up = indicator.health();
                        assertThat(up.getStatus()).isEqualTo(Status.UP);
                        assertThat(up.getDetails())
                                .containsEntry("service", own.uri)
                                .containsKey("session");
                        MeterRegistry meters = context.getBean(MeterRegistry.class);
                        assertThat(meters.get("holdfast.client.session.open")
                                        .gauge()
                                        .value())
                                .isEqualTo(1.0);

                        assertThat(HoldfastHealthIndicator.redact("holdfast://app:pw@h1:4653,h2:4653?token=t"))
                                .as("no credentials in the details")
                                .isEqualTo("holdfast://h1:4653,h2:4653");

                        own.close();
                        Awaitility.await()
                                .atMost(Duration.ofSeconds(20))
                                .untilAsserted(
                                        () -> assertThat(indicator.health().getStatus())
                                                .isEqualTo(Status.DOWN));
                        Awaitility.await()
                                .atMost(Duration.ofSeconds(20))
                                .untilAsserted(() -> assertThat(meters.get("holdfast.client.session.open")
                                                .gauge()
                                                .value())
                                        .as("the session expired")
                                        .isZero());
                    });
        } finally {
            own.close();
        }
    }

    @Test
    void downWithinTheHealthTimeoutWhileTheSessionStillLooksAlive() {
        TestServer own = TestServer.own();
        try {
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(HoldfastAutoConfiguration.class))
                    .withPropertyValues(
                            "holdfast.uri=" + own.uri,
                            "holdfast.session-ttl=60s",
                            "holdfast.request-timeout=500ms",
                            "holdfast.health.timeout=1s")
                    .run(context -> {
                        HoldfastHealthIndicator indicator = context.getBean(HoldfastHealthIndicator.class);
                        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
                        own.close();
                        for (int i = 0; i < 2; i++) { // the second finds the first read still retrying
                            long t0 = System.nanoTime();
                            Health down = indicator.health();
                            Duration took = Duration.ofNanos(System.nanoTime() - t0);
                            assertThat(context.getBean(LockClient.class).isOpen())
                                    .as("the session has not expired yet: only the probe can tell")
                                    .isTrue();
                            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                            assertThat(down.getDetails())
                                    .containsEntry("reason", "the service did not answer within PT1S");
                            assertThat(took)
                                    .as("bounded by holdfast.health.timeout, not by the client's retries")
                                    .isLessThan(Duration.ofSeconds(3));
                        }
                    });
        } finally {
            own.close();
        }
    }
}
