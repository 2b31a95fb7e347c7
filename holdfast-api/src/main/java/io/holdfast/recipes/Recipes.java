package io.holdfast.recipes;

import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.Election;
import io.holdfast.LockClient;
import java.time.Duration;

/** The recipes built from a client's locks, registers and watches: elections, latches, barriers. */
public final class Recipes {
    private Recipes() {}

    /** {@link LockClient#election}. */
    public static Election election(LockClient client, String name) {
        return new LockElection(client, name);
    }

    /** {@link LockClient#latch}. */
    public static DistributedLatch latch(LockClient client, String name) {
        return new RegisterLatch(client, name);
    }

    /** {@link LockClient#barrier}. */
    public static DistributedBarrier barrier(LockClient client, String name, int parties) {
        return new RegisterBarrier(client, name, parties);
    }

    /** {@link LockClient#awaitFree}. */
    public static boolean awaitFree(LockClient client, String name, Duration timeout) throws InterruptedException {
        return FreeWait.await(client, name, timeout);
    }
}
