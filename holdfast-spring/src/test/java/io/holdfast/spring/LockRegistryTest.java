package io.holdfast.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.NotOwnerException;
import io.holdfast.spring.autoconfigure.HoldfastAutoConfiguration;
import io.holdfast.spring.integration.HoldfastLockRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.integration.support.locks.LockRegistry;

/** The Spring Integration {@link LockRegistry} in two real Spring contexts against a real Holdfast node. */
class LockRegistryTest {
    private static final TestServer server = TestServer.shared();

    /** Shared by both "nodes": updated the unsafe way (read, pause, write), so an overlap loses an update. */
    private static int counter;

    private final ApplicationContextRunner node = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    HoldfastAutoConfiguration.class,
                    MetricsAutoConfiguration.class,
                    SimpleMetricsExportAutoConfiguration.class))
            .withPropertyValues("holdfast.uri=" + server.uri, "holdfast.lock-registry.prefix=orders/");

    @Test
    void twoNodesExcludeEachOtherThroughTheRegistry() {
        node.run(a -> node.run(b -> {
            assertThat(a.getBean(LockRegistry.class)).isInstanceOf(HoldfastLockRegistry.class);
            counter = 0;
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger mostInside = new AtomicInteger();
            int rounds = 25;
            List<Thread> threads = new ArrayList<>();
            for (ApplicationContext context : List.of(a, b, a, b)) {
                LockRegistry registry = context.getBean(LockRegistry.class);
                Thread t = new Thread(() -> {
                    for (int i = 0; i < rounds; i++) {
                        Lock lock = registry.obtain("42");
                        lock.lock();
                        try {
                            mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            int read = counter;
                            Thread.sleep(1);
                            counter = read + 1;
                            inside.decrementAndGet();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        } finally {
                            lock.unlock();
                        }
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(mostInside.get())
                    .as("threads inside at once, across both nodes")
                    .isEqualTo(1);
            assertThat(counter).as("no update lost").isEqualTo(4 * rounds);
            assertThat(acquired(a) + acquired(b))
                    .as("holdfast.lock.acquire{source=registry,outcome=acquired}")
                    .isEqualTo(4 * rounds);
            assertThat(held(a) + held(b))
                    .as("holdfast.lock.held after every unlock")
                    .isZero();
        }));
    }

    @Test
    void theSameKeyGivesTheSameReentrantLockAndBadKeysAreRefused() {
        node.run(a -> {
            LockRegistry registry = a.getBean(LockRegistry.class);
            Lock lock = registry.obtain("7");
            assertThat(registry.obtain("7")).isSameAs(lock);
            assertThat(lock.tryLock()).isTrue();
            try {
                assertThat(registry.obtain("7").tryLock())
                        .as("reentrant for the holding thread")
                        .isTrue();
                registry.obtain("7").unlock();
            } finally {
                lock.unlock();
            }
            assertThatThrownBy(() -> registry.obtain(42))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("lock keys must be non-blank strings, not 42 (java.lang.Integer)");
            assertThatThrownBy(() -> registry.obtain(" ")).isInstanceOf(IllegalArgumentException.class);
        });
    }

    @Test
    void aLockTakenAwayFailsItsUnlockIsCountedAsLostAndIsNotHeldAnyMore() {
        node.run(a -> {
            LockRegistry registry = a.getBean(LockRegistry.class);
            MeterRegistry meters = a.getBean(MeterRegistry.class);
            Lock lock = registry.obtain("revoked");
            lock.lock();
            assertThat(held(a)).isEqualTo(1.0);
            try (LockClient operator = LockClient.open(server.uri)) {
                assertThat(operator.admin().revoke("orders/revoked")).isEqualTo(1);
            }
            assertThatThrownBy(lock::unlock).isInstanceOf(LockLostException.class);
            assertThat(ClusterExclusiveTest.lost(meters, "registry")).isEqualTo(1.0);
            assertThat(held(a)).as("the hold is gone with the lease").isZero();
            assertThat(lock.tryLock()).as("and the lock can be taken again").isTrue();
            lock.unlock();
            assertThat(held(a)).isZero();
        });
    }

    @Test
    void aThreadWhoseHoldWasLostIsToldByItsNextReentrantAcquisitionAndCanLockAfresh() {
        node.run(a -> {
            LockRegistry registry = a.getBean(LockRegistry.class);
            MeterRegistry meters = a.getBean(MeterRegistry.class);
            Lock lock = registry.obtain("reentered");
            lock.lock();
            lock.lock();
            assertThat(held(a)).isEqualTo(2.0);
            try (LockClient operator = LockClient.open(server.uri)) {
                assertThat(operator.admin().revoke("orders/reentered")).isEqualTo(1);
            }
            // The loss reaches the client a moment later; until then a reentrant tryLock still succeeds.
            // (Polled on this thread: the hold is this thread's.)
            Awaitility.await().pollInSameThread().atMost(Duration.ofSeconds(10)).until(() -> {
                if (lock.tryLock()) {
                    lock.unlock();
                    return false;
                }
                return true;
            });
            assertThat(ClusterExclusiveTest.lost(meters, "registry")).isEqualTo(1.0);
            assertThat(held(a)).as("the lost hold is forgotten").isZero();
            assertThatThrownBy(lock::unlock)
                    .as("this thread holds nothing now")
                    .isInstanceOf(NotOwnerException.class)
                    .isNotInstanceOf(LockLostException.class);
            lock.lock();
            assertThat(held(a)).as("locked afresh").isEqualTo(1.0);
            lock.unlock();
            assertThat(held(a)).isZero();
        });
    }

    private static long acquired(ApplicationContext context) {
        Timer timer = context.getBean(MeterRegistry.class)
                .find("holdfast.lock.acquire")
                .tag("source", "registry")
                .tag("outcome", "acquired")
                .timer();
        return timer == null ? 0 : timer.count();
    }

    private static double held(ApplicationContext context) {
        return context.getBean(MeterRegistry.class)
                .get("holdfast.lock.held")
                .gauge()
                .value();
    }
}
