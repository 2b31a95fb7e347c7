package io.holdfast.store;

import io.holdfast.Capability;
import io.holdfast.Versioned;
import java.util.Optional;

/**
 * Versioned registers kept in the store, for a backend that declares {@link Capability#REGISTERS}
 * (and {@link Capability#FENCED_REGISTERS} if it can check a fence in the same atomic step as the
 * write). {@link StoreLockClient} checks every argument, the capabilities and the client's state
 * before it calls here, and runs the asynchronous variants; a backend only reads and writes.
 *
 * <p><b>What an implementation guarantees.</b> Versions of one key start at 1 and grow by exactly
 * one per accepted write, so a counter's final version equals the number of writes. A write is
 * accepted only if, in one atomic step of the store (a transaction, a script, a conditional
 * update), the key's current version equals {@code expectedVersion} (0: the key is absent) and,
 * for a fenced write, {@code fence} is still a live grant in the store. Registers live in a name
 * space of their own: a register and a lock of one name do not meet.
 *
 * <p><b>What it does not guarantee.</b> A write whose answer is lost (the store was reached, then
 * the connection failed) ends in {@link io.holdfast.UnavailableException} and may or may not have
 * been applied; the caller re-reads the register to find out. Nothing is retried here: retrying a
 * compare-and-set that was applied would report a conflict with one's own write.
 *
 * <p><b>A failure story.</b> Two instances of an order service read version 4 of {@code
 * orders/17}, both change it and both write with expected version 4. The store accepts the first;
 * the second gets {@link io.holdfast.ConflictException} with current version 5, re-reads and
 * applies its change to what the first wrote, instead of overwriting it.
 */
public interface StoreRegisters {
    /**
     * The current value and version of {@code key}, or empty if it was never written.
     *
     * @throws io.holdfast.UnavailableException if the store cannot be reached
     */
    Optional<Versioned> read(String key);

    /**
     * Writes {@code value} if the version of {@code key} is {@code expectedVersion} and {@code
     * fence} (if not {@code null}) is still a live grant of this store, all in one atomic step.
     *
     * @param value the new value, at most {@link io.holdfast.VersionedRegister#MAX_VALUE_BYTES};
     *     the caller does not change it afterwards
     * @param fence a grant of this backend that must still be held, or {@code null}; only passed
     *     when the backend declares {@link Capability#FENCED_REGISTERS}
     * @return the value written with its new version ({@code expectedVersion + 1})
     * @throws io.holdfast.ConflictException if the version differs or the fence is no longer held,
     *     with the version found (0 if absent, -1 if not known); nothing was written
     * @throws io.holdfast.UnavailableException if the store cannot be reached or the answer was lost
     */
    Versioned write(String key, long expectedVersion, byte[] value, Grant fence);
}
