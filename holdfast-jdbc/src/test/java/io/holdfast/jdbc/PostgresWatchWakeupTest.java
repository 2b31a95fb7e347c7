package io.holdfast.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockWatch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.jdbc.internal.JdbcUri;
import io.holdfast.jdbc.internal.TableBackend;
import io.holdfast.store.StoreBackend;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Watches of the lock-table mode on PostgreSQL are woken by LISTEN/NOTIFY, not by their pause: a
 * sleep in {@code awaitWatched} ends within a few milliseconds of a change by another client, and
 * lasts out its time while only other names change. The other clients reach the same database
 * through another URL (another {@code ApplicationName}), so this JVM's own wake-ups, which are
 * shared by the clients of one URL, never reach the watcher: only PostgreSQL's notifications do,
 * as for a client in another process. Plain polling fails every test here but the quiet one.
 */
@Timeout(120)
class PostgresWatchWakeupTest {
    /** Far below the 100 ms of plain polling. */
    private static final long PROMPT_MILLIS = 50;
    /** The median wait of a watch's events, far below the tens of ms of a poll every 100 ms. */
    private static final long MEDIAN_MILLIS = 20;

    private static Stores.Store store;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final String base = "wake/" + UUID.randomUUID() + "/";

    @BeforeAll
    static void startStore() {
        store = Stores.postgres();
    }

    @AfterAll
    static void stopStore() {
        if (store != null) {
            store.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private TableBackend watcher() {
        TableBackend backend = new TableBackend(JdbcUri.parse(store.uri()), ClientOptions.defaults());
        opened.add(backend::close);
        return backend;
    }

    /** A client of the same database that shares nothing in this JVM with {@link #watcher()}. */
    private LockClient other() {
        LockClient client = LockClient.open(store.uri() + "&ApplicationName=other", ClientOptions.defaults());
        opened.add(client);
        return client;
    }

    @FunctionalInterface
    private interface Change {
        void run() throws Exception;
    }

    /**
     * A thread asleep in {@code awaitWatched(target, max)}, after a first call that returns at once
     * (the thread has seen nothing of the target yet); tells when the second sleep ended.
     */
    private static final class Sleeper {
        final CompletableFuture<Long> wokeAt = new CompletableFuture<>();
        volatile long sleptAt;

        Sleeper(StoreBackend backend, WatchTarget target, Duration max) {
            Thread thread = new Thread(
                    () -> {
                        try {
                            backend.awaitWatched(target, TimeUnit.SECONDS.toNanos(1));
                            sleptAt = System.nanoTime();
                            backend.awaitWatched(target, max.toNanos());
                            wokeAt.complete(System.nanoTime());
                        } catch (Throwable e) {
                            wokeAt.completeExceptionally(e);
                        }
                    },
                    "sleeper " + target);
            thread.setDaemon(true);
            thread.start();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> sleptAt != 0 && thread.getState() == Thread.State.TIMED_WAITING);
        }

        /** Asserts that the sleep ended after {@code change} began and within {@link #PROMPT_MILLIS} of its end. */
        void wokenPromptlyBy(Change change) throws Exception {
            long before = System.nanoTime();
            change.run();
            long after = System.nanoTime();
            long woke = wokeAt.get(5, TimeUnit.SECONDS);
            assertThat(woke).as("the sleep did not end before the change").isGreaterThan(before);
            assertThat(TimeUnit.NANOSECONDS.toMillis(Math.max(0, woke - after)))
                    .as("ms from the change to the wake-up")
                    .isLessThan(PROMPT_MILLIS);
        }

        long sleptMillis() throws Exception {
            return TimeUnit.NANOSECONDS.toMillis(wokeAt.get(10, TimeUnit.SECONDS) - sleptAt);
        }
    }

    @Test
    void aGrantAQueuedWaitAndAReleaseEachWakeTheWatchOfTheirLock() throws Exception {
        TableBackend watcher = watcher();
        LockClient other = other();
        String n = base + "lock";
        WatchTarget target = WatchTarget.lock(n);
        Lease[] held = new Lease[1];
        new Sleeper(watcher, target, Duration.ofSeconds(5))
                .wokenPromptlyBy(() -> held[0] = other.lock(n).acquire(Duration.ofSeconds(5)));
        LockClient waiter = other();
        CompletableFuture<Lease> waiting = new CompletableFuture<>();
        new Sleeper(watcher, target, Duration.ofSeconds(5))
                .wokenPromptlyBy(() -> waiting.completeAsync(() -> {
                    try {
                        return waiter.lock(n).acquire(Duration.ofSeconds(10));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }));
        assertThat(waiting).as("waiting, not granted").isNotDone();
        new Sleeper(watcher, target, Duration.ofSeconds(5)).wokenPromptlyBy(() -> held[0].release());
        waiting.get(5, TimeUnit.SECONDS).release();
    }

    @Test
    void aWriteWakesTheWatchOfItsRegister() throws Exception {
        TableBackend watcher = watcher();
        LockClient other = other();
        String key = base + "config";
        new Sleeper(watcher, WatchTarget.register(key), Duration.ofSeconds(5))
                .wokenPromptlyBy(() -> other.register(key).compareAndSet(0, bytes("one")));
    }

    @Test
    void aPrefixWatchWakesForANameUnderItsPrefixOnly() throws Exception {
        TableBackend watcher = watcher();
        LockClient other = other();
        String prefix = base + "jobs/";
        Sleeper sleeper = new Sleeper(watcher, WatchTarget.prefix(prefix), Duration.ofSeconds(5));
        other.lock(base + "jobs").acquire(Duration.ofSeconds(5)).release();
        other.lock(base + "job/x").acquire(Duration.ofSeconds(5)).release();
        assertThat(sleeper.wokeAt).as("woken by names outside the prefix").isNotDone();
        sleeper.wokenPromptlyBy(() -> other.lock(prefix + "x").acquire(Duration.ofSeconds(5)));
    }

    @Test
    void aSleepLastsItsTimeWhileOnlyOtherNamesAndKeysChange() throws Exception {
        TableBackend watcher = watcher();
        LockClient other = other();
        String n = base + "quiet";
        Sleeper lock = new Sleeper(watcher, WatchTarget.lock(n), Duration.ofSeconds(2));
        Sleeper register = new Sleeper(watcher, WatchTarget.register(n), Duration.ofSeconds(2));
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        for (int i = 0; System.nanoTime() < end; i++) {
            other.lock(n + "x").acquire(Duration.ofSeconds(5)).release();
            other.register(n + "x").compareAndSet(i, bytes("v" + i));
        }
        assertThat(lock.sleptMillis()).as("the lock's sleep of 2 s").isGreaterThanOrEqualTo(1900);
        assertThat(register.sleptMillis()).as("the register's sleep of 2 s").isGreaterThanOrEqualTo(1900);
    }

    /** Through the public API: each change is seen far sooner than a poll every 100 ms would. */
    @Test
    void aWatchSeesEveryChangeWithinAFewMilliseconds() throws Exception {
        LockClient observer = LockClient.open(store.uri(), ClientOptions.defaults());
        opened.add(observer);
        LockClient other = other();
        String n = base + "watched";
        BlockingQueue<Long> arrivals = new LinkedBlockingQueue<>();
        CountDownLatch state = new CountDownLatch(1);
        try (LockWatch watch = observer.watch(WatchTarget.lock(n), e -> {
            if (e.type() == WatchEvent.Type.STATE) {
                state.countDown();
            } else {
                arrivals.add(System.nanoTime());
            }
        })) {
            assertThat(state.await(5, TimeUnit.SECONDS)).as("the state first").isTrue();
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                awaitAsleep(WatchTarget.lock(n));
                Lease lease = other.lock(n).acquire(Duration.ofSeconds(5));
                millis.add(millisUntilArrival(System.nanoTime(), arrivals));
                awaitAsleep(WatchTarget.lock(n));
                lease.release();
                millis.add(millisUntilArrival(System.nanoTime(), arrivals));
            }
            Collections.sort(millis);
            System.out.println("postgresql: 20 changes reached a watch in " + millis + " ms");
            // A poll every 100 ms would see each change only at its next read, tens of ms later.
            assertThat(millis.get(millis.size() / 2))
                    .as("the median of " + millis + " ms")
                    .isLessThan(MEDIAN_MILLIS);
        }
    }

    /**
     * Waits until the watch's thread ({@code WatchRunner}'s, named after its target) sleeps in
     * {@code awaitWatched} between two reads, so that the next change comes while it sleeps: a poll
     * would see it only at its next read, tens of ms later.
     */
    private static void awaitAsleep(WatchTarget target) {
        String thread = "holdfast-watch " + target;
        await().pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(1))
                .atMost(Duration.ofSeconds(5))
                .until(() -> Thread.getAllStackTraces().entrySet().stream()
                        .anyMatch(e -> e.getKey().getName().equals(thread)
                                && e.getKey().getState() == Thread.State.TIMED_WAITING
                                && java.util.Arrays.stream(e.getValue())
                                        .anyMatch(frame -> frame.getMethodName().equals("awaitWatched"))));
    }

    private static long millisUntilArrival(long changed, BlockingQueue<Long> arrivals) throws InterruptedException {
        Long at = arrivals.poll(5, TimeUnit.SECONDS);
        assertThat(at).as("the change reached the watch").isNotNull();
        return TimeUnit.NANOSECONDS.toMillis(Math.max(0, at - changed));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
