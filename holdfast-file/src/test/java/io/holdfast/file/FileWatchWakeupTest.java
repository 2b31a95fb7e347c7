package io.holdfast.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.WatchTarget;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Register watches of the file provider are woken by a write in the same JVM ({@link Signals}),
 * not by their pause: a sleep in {@code awaitWatched} ends within a few milliseconds of a write by
 * another client of the directory in this JVM, at once for a write since the thread's previous
 * sleep, and lasts out its time while only other registers (of other stripes) are written. Writes
 * by other processes are seen by polling only; locks cannot be watched here (no INSPECT).
 */
@Timeout(60)
class FileWatchWakeupTest {
    /** Far below the 100 ms of plain polling. */
    private static final long PROMPT_MILLIS = 50;

    private final List<AutoCloseable> opened = new ArrayList<>();
    private String uri;

    @BeforeEach
    void createDirectory() throws Exception {
        Path base = Files.createDirectories(Path.of("target", "watch-tests")).toAbsolutePath();
        uri = Files.createTempDirectory(base, "store-").resolve("store").toUri().toString();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private FileBackend watcher() {
        FileBackend backend = new FileBackend(FileStoreUri.parse(uri), ClientOptions.defaults());
        opened.add(backend::close);
        return backend;
    }

    private LockClient other() {
        LockClient client = LockClient.open(uri);
        opened.add(client);
        return client;
    }

    @Test
    void aWriteInThisJvmWakesTheWatchOfItsRegister() throws Exception {
        FileBackend watcher = watcher();
        LockClient other = other();
        WatchTarget target = WatchTarget.register("config");
        CompletableFuture<Long> wokeAt = new CompletableFuture<>();
        Thread sleeper = new Thread(() -> {
            try {
                watcher.awaitWatched(target, TimeUnit.SECONDS.toNanos(1)); // the first: at once
                watcher.awaitWatched(target, TimeUnit.SECONDS.toNanos(5));
                wokeAt.complete(System.nanoTime());
            } catch (Throwable e) {
                wokeAt.completeExceptionally(e);
            }
        });
        sleeper.setDaemon(true);
        sleeper.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> sleeper.getState() == Thread.State.TIMED_WAITING);
        long before = System.nanoTime();
        other.register("config").compareAndSet(0, bytes("one"));
        long after = System.nanoTime();
        long woke = wokeAt.get(5, TimeUnit.SECONDS);
        assertThat(woke).as("the sleep did not end before the write").isGreaterThan(before);
        assertThat(TimeUnit.NANOSECONDS.toMillis(Math.max(0, woke - after)))
                .as("ms from the write to the wake-up")
                .isLessThan(PROMPT_MILLIS);
    }

    @Test
    void aWriteBetweenTwoSleepsEndsTheSecondAtOnce() throws Exception {
        FileBackend watcher = watcher();
        WatchTarget target = WatchTarget.register("raced");
        watcher.awaitWatched(target, TimeUnit.SECONDS.toNanos(1)); // the first: at once
        other().register("raced").compareAndSet(0, bytes("one")); // as if while the watch read
        long start = System.nanoTime();
        watcher.awaitWatched(target, TimeUnit.SECONDS.toNanos(5));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                .as("ms asleep after a write that came before the sleep")
                .isLessThan(PROMPT_MILLIS);
    }

    @Test
    void aSleepLastsItsTimeWhileOnlyOtherRegistersAreWritten() throws Exception {
        FileBackend watcher = watcher();
        LockClient other = other();
        String quiet = "quiet";
        String busy = "busy";
        for (int i = 0; Signals.stripeOf(Signals.register(busy)) == Signals.stripeOf(Signals.register(quiet)); i++) {
            busy = "busy" + i; // apart from the watched one: a shared stripe wakes both
        }
        WatchTarget target = WatchTarget.register(quiet);
        CompletableFuture<Long> slept = new CompletableFuture<>();
        Thread sleeper = new Thread(() -> {
            try {
                watcher.awaitWatched(target, TimeUnit.SECONDS.toNanos(1)); // this thread's first
                long start = System.nanoTime();
                watcher.awaitWatched(target, TimeUnit.SECONDS.toNanos(2));
                slept.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            } catch (Throwable e) {
                slept.completeExceptionally(e);
            }
        });
        sleeper.setDaemon(true);
        sleeper.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> sleeper.getState() == Thread.State.TIMED_WAITING);
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        for (int i = 0; System.nanoTime() < end; i++) {
            other.register(busy).compareAndSet(i, bytes("v" + i));
        }
        assertThat(slept.get(10, TimeUnit.SECONDS)).as("the sleep of 2 s").isGreaterThanOrEqualTo(1900);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
