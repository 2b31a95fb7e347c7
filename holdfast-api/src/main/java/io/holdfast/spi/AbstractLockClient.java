package io.holdfast.spi;

import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.DoubleBarrier;
import io.holdfast.Election;
import io.holdfast.GroupMembership;
import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.recipes.Recipes;
import java.time.Duration;

/**
 * A {@link LockClient} whose recipes ({@link #election}, {@link #latch}, {@link #barrier}, {@link
 * #awaitFree}, {@link #group}, {@link #doubleBarrier}) and polling {@link #watch(WatchTarget,
 * WatchListener)} are those of {@link #recipes()}. A provider's client extends it, makes its {@link
 * Recipes} once with its own ticker, scheduler and executor, and writes the rest of the interface
 * itself (and its own {@code watch} where its service keeps a record of its changes).
 */
public abstract class AbstractLockClient implements LockClient {
    /** For subclasses. */
    protected AbstractLockClient() {}

    /** This client's recipes, made with its own ticker and scheduler; the same object every call. */
    protected abstract Recipes recipes();

    @Override
    public Election election(String name) {
        return recipes().election(name);
    }

    @Override
    public DistributedLatch latch(String name) {
        return recipes().latch(name);
    }

    @Override
    public DistributedBarrier barrier(String name, int parties) {
        return recipes().barrier(name, parties);
    }

    @Override
    public GroupMembership group(String group) {
        return recipes().group(group);
    }

    @Override
    public DoubleBarrier doubleBarrier(String name, int parties) {
        return recipes().doubleBarrier(name, parties);
    }

    /** Polls the watched state on this client's clock and threads ({@link Recipes#watch}). */
    @Override
    public Watch watch(WatchTarget target, WatchListener listener) {
        return recipes().watch(target, listener);
    }

    @Override
    public boolean awaitFree(String name, Duration timeout) throws InterruptedException {
        return recipes().awaitFree(name, timeout);
    }
}
