package io.holdfast.shedlock;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import net.javacrumbs.shedlock.core.LockProvider;
import net.javacrumbs.shedlock.spring.annotation.EnableSchedulerLock;
import net.javacrumbs.shedlock.spring.annotation.SchedulerLock;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * ShedLock's own Spring integration ({@code @EnableSchedulerLock}, {@code @SchedulerLock}) with
 * {@link HoldfastLockProvider}, in real Spring contexts, against a real Holdfast server on loopback:
 * two contexts stand for two application nodes, each with its own client and session.
 */
class ShedLockSpringTest {
    @TempDir
    static Path dir;

    private static HoldfastServer server;
    private static String uri;

    /** What the job saw: how many ran at once, and the fencing token of each run. */
    static final AtomicInteger running = new AtomicInteger();

    static final AtomicInteger mostAtOnce = new AtomicInteger();
    static final ConcurrentLinkedQueue<Long> tokens = new ConcurrentLinkedQueue<>();

    /** The application's job, as its authors wrote it for ShedLock. */
    public static class Report {
        @SchedulerLock(name = "nightly-report", lockAtLeastFor = "PT0S")
        public void run() throws InterruptedException {
            int now = running.incrementAndGet();
            mostAtOnce.accumulateAndGet(now, Math::max);
            tokens.add(HoldfastLockProvider.currentToken().orElse(-1L));
            Thread.sleep(100); // the job's own work
            running.decrementAndGet();
        }

        @SchedulerLock(name = "hourly-sync", lockAtLeastFor = "PT1.5S")
        public void sync() {
            tokens.add(HoldfastLockProvider.currentToken().orElse(-1L));
        }
    }

    /** One application node: its LockClient, the provider, the job. */
    @Configuration
    @EnableSchedulerLock(defaultLockAtMostFor = "PT1M")
    public static class Node {
        @Bean(destroyMethod = "close")
        LockClient lockClient() {
            return LockClient.open(uri, ClientOptions.defaults());
        }

        @Bean(destroyMethod = "close")
        LockProvider lockProvider(LockClient client) {
            return new HoldfastLockProvider(client);
        }

        @Bean
        Report report() {
            return new Report();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        server = HoldfastServer.start(ServerConfig.single(dir, "127.0.0.1", freePort(), freePort(), -1));
        uri = "holdfast://127.0.0.1:" + server.clientPort();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(server::isLeader);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static int freePort() throws Exception {
        return io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
    }

    @Test
    void twoNodesNeverRunTheJobAtOnceAndEachRunHasALargerToken() throws Exception {
        tokens.clear();
        mostAtOnce.set(0);
        try (var a = new AnnotationConfigApplicationContext(Node.class);
                var b = new AnnotationConfigApplicationContext(Node.class)) {
            List<Thread> threads = new ArrayList<>();
            AtomicInteger calls = new AtomicInteger();
            // 2 s of calls from both nodes, and on until more than three runs happened (a machine
            // loaded by other jobs can slow the runs down), for at most 30 s.
            long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            long last = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            for (var context : List.of(a, b, a, b)) {
                Report report = context.getBean(Report.class);
                Thread t = new Thread(() -> {
                    while (System.nanoTime() < end || (tokens.size() <= 3 && System.nanoTime() < last)) {
                        try {
                            report.run();
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
            assertThat(seen).as("some runs happened").hasSizeGreaterThan(3);
            assertThat(calls.get()).as("and most calls were skipped").isGreaterThan(seen.size());
            assertThat(seen).doesNotContain(-1L).isSorted().doesNotHaveDuplicates();
        }
    }

    @Test
    void lockAtLeastForKeepsTheLockAfterAShortRun() throws Exception {
        tokens.clear();
        try (var a = new AnnotationConfigApplicationContext(Node.class);
                var b = new AnnotationConfigApplicationContext(Node.class)) {
            a.getBean(Report.class).sync();
            b.getBean(Report.class).sync();
            assertThat(tokens)
                    .as("the second node skipped: the first keeps the lock for 1.5 s")
                    .hasSize(1);
            Awaitility.await("the lock is free once lockAtLeastFor has passed")
                    .atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        b.getBean(Report.class).sync();
                        return tokens.size() == 2;
                    });
        }
    }
}
