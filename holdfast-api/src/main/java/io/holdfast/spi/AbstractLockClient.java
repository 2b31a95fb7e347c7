package io.holdfast.spi;

import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.Election;
import io.holdfast.LockClient;
import io.holdfast.recipes.Recipes;
import java.time.Duration;

/**
 * A {@link LockClient} whose recipes ({@link #election}, {@link #latch}, {@link #barrier}, {@link
 * #awaitFree}) are those of {@link #recipes()}. A provider's client extends it, makes its {@link
 * Recipes} once with its own ticker and scheduler, and writes the rest of the interface itself.
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
    public boolean awaitFree(String name, Duration timeout) throws InterruptedException {
        return recipes().awaitFree(name, timeout);
    }
}
