package io.holdfast.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.HolderInfo;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.spring.autoconfigure.HoldfastAutoConfiguration;
import io.holdfast.spring.jobs.ClusterExclusiveAdvisor;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The auto-configuration in real Spring contexts, against a real Holdfast node. */
class AutoConfigurationTest {
    private static final TestServer server = TestServer.shared();

    private final ApplicationContextRunner runner =
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(HoldfastAutoConfiguration.class));

    @Test
    void aClientFromPropertiesTakesLocksUnderItsNameAndIsClosedWithTheContext() {
        AtomicReference<LockClient> seen = new AtomicReference<>();
        runner.withPropertyValues(
                        "holdfast.uri=" + server.uri, "holdfast.client-name=orders-app", "holdfast.session-ttl=3s")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(LockClient.class);
                    LockClient client = context.getBean(LockClient.class);
                    seen.set(client);
                    try (Lease lease = client.lock("spring/auto").tryAcquire().orElseThrow()) {
                        assertThat(lease.fencingToken()).isPositive();
                        HolderInfo holder = client.admin()
                                .describe("spring/auto")
                                .orElseThrow()
                                .holders()
                                .get(0);
                        assertThat(holder.clientName()).isEqualTo("orders-app");
                    }
                });
        assertThat(seen.get().isOpen())
                .as("closed at shutdown, its session ended")
                .isFalse();
    }

    @Test
    void withoutAUriTheApplicationDoesNotStartAndSaysWhatToSet() {
        runner.run(context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            HoldfastConfigurationException cause = cause(failure);
            assertThat(cause.getMessage()).startsWith("holdfast.uri is not set");
            FailureAnalysis analysis = new HoldfastFailureAnalyzer().analyze(failure);
            assertThat(analysis.getAction()).contains("Set holdfast.uri", "holdfast.enabled=false");
        });
    }

    @Test
    void anOutOfRangeValueNamesItsProperty() {
        runner.withPropertyValues("holdfast.uri=" + server.uri, "holdfast.session-ttl=100ms")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("holdfast.session-ttl: sessionTtl must be between"));
    }

    @Test
    void withTheServiceDownTheStartFailsWithinTheConnectTimeoutNamingTheAddress() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort(); // nothing listens there any more
        }
        int down = port;
        long start = System.nanoTime();
        runner.withPropertyValues("holdfast.uri=holdfast://127.0.0.1:" + down, "holdfast.connect-timeout=1s")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .contains("127.0.0.1:" + down)
                        .contains("within the connect timeout (1s)")
                        .contains("connection refused"));
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start))
                .as("the 1 s asked for, not the default 5 s")
                .isLessThan(java.time.Duration.ofSeconds(4));
        runner.withPropertyValues("holdfast.uri=" + server.uri, "holdfast.connect-timeout=50ms")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("holdfast.connect-timeout: connectTimeout must be between"));
    }

    @Test
    void theOtherClientOptionsAreCheckedAndNamed() {
        runner.withPropertyValues("holdfast.uri=" + server.uri, "holdfast.lock-delay=2m")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("holdfast.lock-delay: lockDelay must be between"));
        runner.withPropertyValues("holdfast.uri=" + server.uri, "holdfast.retry.max-attempts=0")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("holdfast.retry: maxAttempts must be between 1 and 1000"));
        runner.withPropertyValues("holdfast.uri=" + server.uri, "holdfast.health.timeout=0s")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("holdfast.health.timeout must be positive"));
        runner.withPropertyValues(
                        "holdfast.uri=" + server.uri,
                        "holdfast.lock-delay=1s",
                        "holdfast.retry.max-attempts=3",
                        "holdfast.retry.max-elapsed=2s")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    try (Lease lease = context.getBean(LockClient.class)
                            .lock("spring/options")
                            .tryAcquire()
                            .orElseThrow()) {
                        assertThat(lease.isValid()).isTrue();
                    }
                });
    }

    @Test
    void aUriNoProviderTakesIsRefusedWithoutLeakingItsPassword() {
        runner.withPropertyValues("holdfast.uri=nosuch://user:secret@host/x?token=abc")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("holdfast.uri 'nosuch://host/x' is not usable")
                        .doesNotContain("secret", "abc"));
    }

    @Test
    void disabledMeansNoBeansAtAll() {
        runner.withPropertyValues("holdfast.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(LockClient.class);
            assertThat(context).doesNotHaveBean(ClusterExclusiveAdvisor.class);
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnClient {
        @Bean(destroyMethod = "close")
        LockClient myClient() {
            return LockClient.open(
                    server.uri, ClientOptions.builder().clientName("mine").build());
        }
    }

    @Test
    void theApplicationsOwnClientIsUsed() {
        runner.withUserConfiguration(OwnClient.class).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(LockClient.class);
            assertThat(context).hasBean("myClient").doesNotHaveBean("holdfastLockClient");
        });
    }

    private static HoldfastConfigurationException cause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HoldfastConfigurationException h) {
                return h;
            }
        }
        throw new AssertionError("no HoldfastConfigurationException in " + failure, failure);
    }
}
