package io.holdfast.recipes;

import io.holdfast.Capability;
import io.holdfast.ConflictException;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * The compare-and-set loop the register recipes ({@link RegisterLatch}, {@link RegisterBarrier})
 * share: read the register, decide, write at the version read, and on {@link ConflictException}
 * (someone else wrote first) read again and decide again. Every retry follows someone else's
 * success, so the loop always makes progress; a short random pause after each conflict keeps many
 * writers (a barrier of thousands of parties arriving together) from retrying in lock step.
 */
final class RegisterUpdate {
    /** The longest pause after a conflict; the pause doubles from 1 ms up to it, all of it random. */
    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(64);

    private RegisterUpdate() {}

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
        long pause = TimeUnit.MILLISECONDS.toNanos(1);
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
                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(pause + 1));
                pause = Math.min(MAX_PAUSE_NANOS, pause * 2);
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
