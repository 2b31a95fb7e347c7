package io.holdfast.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockClient;
import io.holdfast.spring.autoconfigure.HoldfastAutoConfiguration;
import io.holdfast.spring.leader.ClusterLeader;
import io.holdfast.spring.leader.HoldfastLeaderInitiator;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.Lifecycle;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * How {@code holdfast.leader.*} and {@code @ClusterLeader} are wired, and refused with the reason when they are
 * wrong; and a leader bean that fails to start, against a real Holdfast node.
 */
class LeaderConfigurationTest {
    private static final TestServer server = TestServer.shared();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HoldfastAutoConfiguration.class))
            .withPropertyValues("holdfast.uri=" + server.uri);

    /** A plain {@link Lifecycle}: the context does not start it by itself. */
    static class Plain implements Lifecycle {
        final AtomicInteger starts = new AtomicInteger();
        private volatile boolean running;

        @Override
        public void start() {
            starts.incrementAndGet();
            running = true;
        }

        @Override
        public void stop() {
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    /** A {@link SmartLifecycle} left with {@code isAutoStartup() == true}. */
    @ClusterLeader
    static class Eager extends Plain implements SmartLifecycle {}

    @ClusterLeader
    static class NotALifecycle {}

    /** A leader bean of phase 0. */
    @ClusterLeader
    static class Leading extends Plain {}

    @ClusterLeader("reports")
    static class Reports extends Plain {}

    @ClusterLeader
    static class Failing extends Plain implements SmartLifecycle {
        @Override
        public void start() {
            super.start();
            throw new IllegalStateException("the relay's queue is not reachable");
        }

        @Override
        public boolean isAutoStartup() {
            return false;
        }

        @Override
        public int getPhase() {
            return 1;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Both {
        @Bean
        @ClusterLeader
        Plain first() {
            return new Plain();
        }

        @Bean
        Reports second() {
            return new Reports();
        }

        /** The application's own initiator, for a second election. */
        @Bean
        HoldfastLeaderInitiator reportsLeader(LockClient client) {
            return new HoldfastLeaderInitiator(client, "reports", "me");
        }
    }

    @Test
    void eachLeaderBeanGoesToTheInitiatorOfItsElectionAndNothingIsCreatedWithoutOne() {
        runner.withUserConfiguration(Both.class)
                .withPropertyValues("holdfast.leader.election=spring/config", "holdfast.leader.value=node-1")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    HoldfastLeaderInitiator main =
                            context.getBean("holdfastLeaderInitiator", HoldfastLeaderInitiator.class);
                    HoldfastLeaderInitiator reports = context.getBean("reportsLeader", HoldfastLeaderInitiator.class);
                    assertThat(main.getElection()).isEqualTo("spring/config");
                    assertThat(main.getValue()).isEqualTo("node-1");
                    assertThat(main.getLifecycles()).containsExactly(context.getBean("first", Lifecycle.class));
                    assertThat(reports.getLifecycles()).containsExactly(context.getBean(Reports.class));
                });
        runner.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(HoldfastLeaderInitiator.class));
    }

    @Test
    void misconfiguredLeaderBeansStopTheStartNamingTheBeanAndWhatToDo() {
        runner.withBean("eager", Eager.class)
                .withPropertyValues("holdfast.leader.election=spring/config")
                .run(context -> assertThat(cause(context.getStartupFailure()))
                        .hasMessage("@ClusterLeader bean 'eager' would be started by the context on every node (its"
                                + " isAutoStartup() is true)")
                        .extracting(HoldfastConfigurationException::action)
                        .isEqualTo("Return false from isAutoStartup(): the leader starts it."));
        runner.withBean("notALifecycle", NotALifecycle.class)
                .withPropertyValues("holdfast.leader.election=spring/config")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("@ClusterLeader bean 'notALifecycle' (" + NotALifecycle.class.getName()
                                + ") is not a Lifecycle"));
        runner.withBean("failing", Failing.class)
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .isEqualTo("@ClusterLeader bean 'failing' names no election, and holdfast.leader.election"
                                + " is not set"));
        runner.withBean("reports", Reports.class)
                .withPropertyValues("holdfast.leader.election=spring/config")
                .run(context -> assertThat(cause(context.getStartupFailure()))
                        .hasMessage("@ClusterLeader bean 'reports' follows election 'reports', but no"
                                + " HoldfastLeaderInitiator campaigns on it")
                        .extracting(HoldfastConfigurationException::action)
                        .isEqualTo("Set holdfast.leader.election=reports, or define a HoldfastLeaderInitiator bean"
                                + " for it."));
        runner.withPropertyValues("holdfast.leader.election=services/../indexer")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .isEqualTo("holdfast.leader.election 'services/../indexer' cannot be campaigned on: name must"
                                + " not have a '..' segment: services/../indexer"));
        runner.withPropertyValues("holdfast.leader.election=spring/config", "holdfast.leader.retry-delay=-1s")
                .run(context -> assertThat(cause(context.getStartupFailure()).getMessage())
                        .startsWith("holdfast.leader.retry-delay: retryDelay must be between 0 and 10m"));
    }

    @Test
    void aNodeWhoseLeaderBeanFailsToStartResignsAndTheOtherLeads() {
        ApplicationContextRunner broken = runner.withBean("leading", Leading.class)
                .withBean("failing", Failing.class)
                .withPropertyValues(
                        "holdfast.leader.election=spring/failing-start",
                        "holdfast.leader.value=broken",
                        "holdfast.leader.retry-delay=1m");
        ApplicationContextRunner healthy = runner.withBean("leading", Leading.class)
                .withPropertyValues("holdfast.leader.election=spring/failing-start", "holdfast.leader.value=healthy");
        broken.run(a -> {
            Failing failing = a.getBean(Failing.class);
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> failing.starts.get() == 1);
            healthy.run(b -> {
                Awaitility.await()
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> b.getBean(HoldfastLeaderInitiator.class).isLeader());
                assertThat(b.getBean(Leading.class).isRunning()).isTrue();
                assertThat(a.getBean(HoldfastLeaderInitiator.class).isLeader()).isFalse();
                assertThat(a.getBean(Leading.class).starts.get())
                        .as("the bean before the failing one was started")
                        .isEqualTo(1);
                assertThat(a.getBean(Leading.class).isRunning())
                        .as("and stopped again when the node resigned")
                        .isFalse();
                try (LockClient observer = LockClient.open(server.uri)) {
                    assertThat(observer.election("spring/failing-start")
                                    .leader()
                                    .orElseThrow()
                                    .value())
                            .isEqualTo("healthy");
                }
            });
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
