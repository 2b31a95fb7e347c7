package io.holdfast.recipes;

import io.holdfast.HoldfastException;
import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.SessionExpiredException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import java.time.Duration;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The keys under a prefix as a watch of them tells ({@link Keys#watch}): its {@code STATE} sets
 * them, each write and deletion changes them. Each change is handed to {@code onChange} as a
 * snapshot, on the watch's thread; a thread may also wait until the keys satisfy a condition.
 *
 * <p>What it holds is what the service told, in its order: never a key the service had already
 * deleted when the view was last told, though it may lag the service by the watch's delay. Keys
 * are held by their name after the prefix. The owner of a key told by a write is the writing
 * session: the recipes' keys are attached by the session that writes them. A wait is measured on
 * the client's clock ({@link Recipes}' ticker), and a timer on its scheduler wakes it at the
 * timeout.
 */
final class KeyView implements WatchListener, AutoCloseable {
    private final Recipes recipes;
    private final String prefix;
    private final Consumer<SortedMap<String, KeyEntry>> onChange;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final TreeMap<String, KeyEntry> keys = new TreeMap<>();
    private final Watch watch;
    private boolean started;
    private HoldfastException ended;

    /**
     * Starts watching {@code prefix} through {@code keys} (the keys of {@code recipes}' client);
     * {@code onChange} is told every change.
     */
    KeyView(Recipes recipes, Keys keys, String prefix, Consumer<SortedMap<String, KeyEntry>> onChange) {
        this.recipes = recipes;
        this.prefix = prefix;
        this.onChange = onChange;
        this.watch = keys.watch(prefix, this);
    }

    @Override
    public void onEvent(WatchEvent event) {
        SortedMap<String, KeyEntry> now;
        lock.lock();
        try {
            switch (event.type()) {
                case STATE -> {
                    keys.clear();
                    event.keys().forEach(e -> keys.put(name(e.key()), e));
                    started = true;
                }
                case REGISTER_SET ->
                    keys.put(
                            name(event.name()),
                            new KeyEntry(event.name(), event.version(), event.value(), event.sessionId()));
                case REGISTER_DELETED -> keys.remove(name(event.name()));
                default -> {
                    return;
                }
            }
            now = snapshot();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        onChange.accept(now);
    }

    @Override
    public void onEnd(HoldfastException cause) {
        lock.lock();
        try {
            ended = cause != null ? cause : new SessionExpiredException("the watch of " + prefix + " ended");
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private String name(String key) {
        return key.substring(prefix.length());
    }

    private SortedMap<String, KeyEntry> snapshot() {
        return Collections.unmodifiableSortedMap(new TreeMap<>(keys));
    }

    /**
     * Waits until the keys, once the watch has told their state, satisfy {@code done}, or the
     * timeout passes.
     *
     * @return whether they did
     * @throws HoldfastException when the watch ended (the client closed, its session gone)
     */
    boolean await(Predicate<SortedMap<String, KeyEntry>> done, Duration timeout) throws InterruptedException {
        long deadline = recipes.nanos() + timeout.toNanos();
        ScheduledFuture<?> timer = recipes.schedule(this::wake, timeout);
        lock.lock();
        try {
            while (!started || !done.test(keys)) {
                if (ended != null) {
                    throw ended;
                }
                long left = deadline - recipes.nanos();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(Math.min(left, TimeUnit.SECONDS.toNanos(1)));
            }
            return true;
        } finally {
            lock.unlock();
            if (timer != null) {
                timer.cancel(false);
            }
        }
    }

    /** The timeout's timer: the waiter reads the clock again. */
    private void wake() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The watch under the view, for a caller that ends it. */
    Watch watch() {
        return watch;
    }

    @Override
    public void close() {
        watch.close();
    }
}
