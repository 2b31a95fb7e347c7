package io.holdfast.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.spring.autoconfigure.HoldfastAutoConfiguration;
import io.holdfast.spring.jobs.ClusterExclusive;
import io.holdfast.spring.jobs.HoldfastJobs;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code @ClusterExclusive} in two real Spring contexts (two application nodes, each with its own client and
 * session) against a real Holdfast node.
 */
class ClusterExclusiveTest {
    private static final TestServer server = TestServer.shared();

    static final AtomicInteger running = new AtomicInteger();
    static final AtomicInteger mostAtOnce = new AtomicInteger();
    static final ConcurrentLinkedQueue<Long> tokens = new ConcurrentLinkedQueue<>();
    static volatile CountDownLatch started;
    static volatile CountDownLatch finish;

    /** The application's job, as its authors would write it. */
    public static class Jobs {
        @ClusterExclusive("nightly-report")
        public void nightlyReport() throws InterruptedException {
            int now = running.incrementAndGet();
            mostAtOnce.accumulateAndGet(now, Math::max);
            tokens.add(HoldfastJobs.currentToken().orElse(-1L));
            Thread.sleep(30); // the job's own work
            running.decrementAndGet();
        }

        @ClusterExclusive(value = "queued", waitFor = "PT10S")
        public String queued() {
            return "ran with " + HoldfastJobs.currentToken().orElseThrow();
        }

        @ClusterExclusive("revoked")
        public Long revoked() throws InterruptedException {
            started.countDown();
            finish.await();
            return HoldfastJobs.currentToken().orElseThrow();
        }

        @ClusterExclusive("counted")
        public int count() {
            return 1;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class App {
        @Bean
        Jobs jobs() {
            return new Jobs();
        }
    }

    private final ApplicationContextRunner node = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    HoldfastAutoConfiguration.class,
                    MetricsAutoConfiguration.class,
                    SimpleMetricsExportAutoConfiguration.class))
            .withUserConfiguration(App.class)
            .withPropertyValues("holdfast.uri=" + server.uri);

    @BeforeEach
    void reset() {
        running.set(0);
        mostAtOnce.set(0);
        tokens.clear();
        started = new CountDownLatch(1);
        finish = new CountDownLatch(1);
    }

    @Test
    void twoNodesNeverRunTheJobAtOnceEachRunHasALargerTokenAndSkipsAreCounted() {
        node.run(a -> node.run(b -> {
            AtomicInteger calls = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            // 1.5 s of calls from both nodes, and on until more than five runs happened (on a machine
            // loaded by other jobs, 1.5 s once gave three), for at most 30 s.
            long end = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            long last = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            for (ApplicationContext context : List.of(a, b, a, b)) {
                Jobs jobs = context.getBean(Jobs.class);
                Thread t = new Thread(() -> {
                    while (System.nanoTime() < end || (tokens.size() <= 5 && System.nanoTime() < last)) {
                        try {
                            jobs.nightlyReport();
                        } catch (InterruptedException e) {
                            return;
                        }
                        calls.incrementAndGet();
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(mostAtOnce.get()).as("runs at once, across both nodes").isEqualTo(1);
            List<Long> seen = new ArrayList<>(tokens);
            assertThat(seen).as("runs happened").hasSizeGreaterThan(5);
            assertThat(seen).doesNotContain(-1L).isSorted().doesNotHaveDuplicates();
            double ran = runs(a, "ran") + runs(b, "ran");
            double skipped = runs(a, "skipped") + runs(b, "skipped");
            assertThat(ran).as("holdfast.job.runs{result=ran}").isEqualTo(seen.size());
            assertThat(ran + skipped).as("every call counted once").isEqualTo(calls.get());
            assertThat(skipped).as("most calls found the job running elsewhere").isPositive();
            assertThat(HoldfastJobs.currentToken()).as("no token outside a run").isEmpty();
        }));
    }

    @Test
    void withWaitForACallQueuesInsteadOfSkipping() throws Exception {
        node.run(a -> {
            LockClient other = LockClient.open(server.uri);
            try {
                Lease held = other.lock("jobs/queued").tryAcquire().orElseThrow();
                Thread releaser = new Thread(() -> {
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException ignored) {
                        // release now
                    }
                    held.release();
                });
                releaser.start();
                String result = a.getBean(Jobs.class).queued();
                assertThat(result).as("it waited for the other holder and ran").startsWith("ran with ");
                long token = Long.parseLong(result.substring("ran with ".length()));
                assertThat(token).isGreaterThan(held.fencingToken());
                releaser.join();
            } finally {
                other.close();
            }
        });
    }

    @Test
    void theHelperSkipsWhileAnotherClientHoldsTheLock() {
        try (LockClient mine = LockClient.open(server.uri);
                LockClient other = LockClient.open(server.uri)) {
            AtomicInteger runs = new AtomicInteger();
            try (Lease held = other.lock("jobs/helper").tryAcquire().orElseThrow()) {
                assertThat(held.isValid()).isTrue();
                assertThat(HoldfastJobs.runExclusively(mine, "jobs/helper", runs::incrementAndGet))
                        .isFalse();
            }
            assertThat(HoldfastJobs.runExclusively(mine, "jobs/helper", runs::incrementAndGet))
                    .isTrue();
            assertThat(runs.get()).isEqualTo(1);
        }
    }

    @Test
    void theHelperIsMeasuredWhenGivenTheMetrics() {
        node.run(a -> {
            LockClient client = a.getBean(LockClient.class);
            HoldfastMetrics metrics = a.getBean(HoldfastMetrics.class);
            try (LockClient other = LockClient.open(server.uri)) {
                try (Lease held = other.lock("jobs/measured").tryAcquire().orElseThrow()) {
                    assertThat(held.isValid()).isTrue();
                    assertThat(HoldfastJobs.runExclusively(client, "jobs/measured", Duration.ZERO, metrics, () -> {}))
                            .isFalse();
                }
            }
            assertThat(HoldfastJobs.runExclusively(client, "jobs/measured", Duration.ZERO, metrics, () -> {}))
                    .isTrue();
            MeterRegistry meters = a.getBean(MeterRegistry.class);
            assertThat(meters.get("holdfast.job.runs")
                            .tag("job", "jobs/measured")
                            .tag("result", "skipped")
                            .counter()
                            .count())
                    .isEqualTo(1.0);
            assertThat(meters.get("holdfast.job.runs")
                            .tag("job", "jobs/measured")
                            .tag("result", "ran")
                            .counter()
                            .count())
                    .isEqualTo(1.0);
            assertThat(meters.get("holdfast.lock.acquire")
                            .tag("source", "job")
                            .tag("outcome", "busy")
                            .timer()
                            .count())
                    .isEqualTo(1);
        });
    }

    @Test
    void aRunWhoseLockIsTakenAwayGoesOnWithItsTokenAndTheLossIsCounted() {
        node.run(a -> {
            MeterRegistry meters = a.getBean(MeterRegistry.class);
            AtomicReference<Object> result = new AtomicReference<>();
            Thread run = new Thread(() -> {
                try {
                    result.set(a.getBean(Jobs.class).revoked());
                } catch (InterruptedException | RuntimeException e) {
                    result.set(e);
                }
            });
            run.start();
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(meters.get("holdfast.lock.held").gauge().value()).isEqualTo(1.0);
            long token;
            try (LockClient operator = LockClient.open(server.uri)) {
                token = operator.admin()
                        .describe("jobs/revoked")
                        .orElseThrow()
                        .holders()
                        .get(0)
                        .fencingToken();
                assertThat(operator.admin().revoke("jobs/revoked")).isEqualTo(1);
            }
            try {
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertThat(lost(meters, "job")).isEqualTo(1.0));
            } finally {
                finish.countDown();
                run.join();
            }
            assertThat(result.get())
                    .as("the run cannot be stopped: it finished, with the token it started with")
                    .isEqualTo(token);
            assertThat(meters.get("holdfast.lock.held").gauge().value()).isZero();
        });
    }

    static double lost(MeterRegistry meters, String source) {
        var counter = meters.find("holdfast.lock.lost").tag("source", source).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aMethodReturningAPrimitiveIsRefusedWithTheReason() {
        node.run(a -> assertThatThrownBy(() -> a.getBean(Jobs.class).count())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("@ClusterExclusive on Jobs.count: the method must return void or an object"));
    }

    private static double runs(ApplicationContext context, String result) {
        var counter = context.getBean(MeterRegistry.class)
                .find("holdfast.job.runs")
                .tag("job", "nightly-report")
                .tag("result", result)
                .counter();
        return counter == null ? 0 : counter.count();
    }
}
