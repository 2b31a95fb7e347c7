package io.holdfast.recipes;

import io.holdfast.Capability;
import io.holdfast.ConflictException;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import io.holdfast.internal.Backoffs;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * The compare-and-set loop the register recipes ({@link RegisterLatch}, {@link RegisterBarrier})
 * share: read the register, decide, write at the version read, and on {@link ConflictException}
 * (someone else wrote first) read again and decide again. Every retry follows someone else's
 * success, so the loop always makes progress; a short random pause after each conflict ({@link
 * Backoffs#registerConflict()}) keeps many writers from retrying in lock step.
 */
final class CompareAndSetLoop {
    /** The pause after a conflict. */
    private static final RetryPolicy PAUSES = Backoffs.registerConflict();

    private CompareAndSetLoop() {}

    /**
     * What one step decided: write {@code value} (null: write nothing) and then return {@code
     * result}.
     */
    record Decision<R>(byte[] value, R result) {
        /** Writes nothing, returns {@code result}. */
        static <R> Decision<R> keep(R result) {
            return new Decision<>(null, result);
        }

        /** Writes {@code value}; if the write wins, returns {@code result}. */
        static <R> Decision<R> write(byte[] value, R result) {
            return new Decision<>(value, result);
        }
    }

    /**
     * Runs {@code step} on the register's current value (empty: never written) until a decision to
     * keep it, or a write at the version read succeeds.
     *
     * @throws RuntimeException what the step or the register threw, {@link ConflictException} aside
     */
    static <R> R apply(VersionedRegister register, Function<Optional<Versioned>, Decision<R>> step) {
        int conflicts = 0;
        while (true) {
            Optional<Versioned> now = register.get();
            Decision<R> decision = step.apply(now);
            if (decision.value() == null) {
                return decision.result();
            }
            try {
                register.compareAndSet(now.map(Versioned::version).orElse(0L), decision.value());
                return decision.result();
            } catch (ConflictException e) {
                conflicts = Math.min(conflicts + 1, 64);
                LockSupport.parkNanos(PAUSES.delayBefore(conflicts, ThreadLocalRandom.current()::nextDouble)
                        .toNanos());
            }
        }
    }

    /** Requires {@link Capability#REGISTERS}, naming the recipe that needs it. */
    static void requireRegisters(LockClient client, String recipe) {
        if (!client.capabilities().contains(Capability.REGISTERS)) {
            throw new UnsupportedFeatureException(recipe + " need " + Capability.REGISTERS
                    + ", which this provider does not offer (" + List.copyOf(client.capabilities()) + ")");
        }
    }
}
