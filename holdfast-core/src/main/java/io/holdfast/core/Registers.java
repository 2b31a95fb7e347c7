package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.model.Command.RegisterSet;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The versioned registers of {@link LockTable}: small values whose version only grows, written by
 * compare-and-set ({@link RegisterSet}), optionally only while a fencing token is a current grant
 * and, for a write that says so ({@link RegisterSet#ownFence()}, every write since protocol version
 * 4), a grant held by the writing session. Keeps the sum of every value's bytes for the {@code
 * register-bytes} quota.
 *
 * <p>Guarantees: a write that is refused (conflict, quota) changes nothing; a written value is a
 * copy of the command's bytes and a read returns a copy, so no caller can change a stored value.
 * Malformed input is thrown as {@link InvalidArgumentException} before anything changes. It does
 * not check access rules (the table does that before it calls {@link #set}) and does not know the
 * locks: the fence is checked through the {@link Fences} it is given. A write of type 10 ({@code
 * ownFence} false) still takes another session's current grant as its fence: that is the meaning
 * those log entries had, and replaying them otherwise would make replicas differ.
 */
final class Registers {
    /** Who holds a fence, as the table knows it. */
    @FunctionalInterface
    interface Fences {
        /** The id of the session holding the current grant of {@code name} with {@code token}, or null if none does. */
        String holder(String name, long token);
    }

    static final class Register {
        final long version;
        final byte[] value;

        Register(long version, byte[] value) {
            this.version = version;
            this.value = value;
        }
    }

    private final Map<String, Register> registers = new HashMap<>();
    /** Bytes of every register value together (derived). */
    private long bytes;

    /**
     * Applies a compare-and-set.
     *
     * @param fences who holds (name, token), for a fenced write
     * @param admission the quotas, and where a refusal is counted
     * @param stateEntries the sessions, locks and registers the table holds now
     */
    Reply set(RegisterSet c, Fences fences, Admission admission, int stateEntries) {
        String key = Names.check(c.key());
        if (c.value() == null) {
            throw new InvalidArgumentException("value must not be null");
        }
        if (c.value().length > Limits.MAX_VALUE_BYTES) {
            throw new InvalidArgumentException(
                    "value is " + c.value().length + " bytes; the limit is " + Limits.MAX_VALUE_BYTES);
        }
        if (c.expectedVersion() < 0) {
            throw new InvalidArgumentException("expected version must not be negative");
        }
        Register current = registers.get(key);
        long version = current == null ? 0 : current.version;
        if (c.fenceName() != null) {
            String holder = fences.holder(Names.check(c.fenceName()), c.fenceToken());
            if (holder == null) {
                return new Failed(
                        ErrorCode.CONFLICT,
                        "fencing token " + c.fenceToken() + " is no longer a current grant of " + c.fenceName(),
                        List.of(),
                        version);
            }
            if (c.ownFence() && !holder.equals(c.invocation().sessionId())) {
                return new Failed(
                        ErrorCode.CONFLICT,
                        "fencing token " + c.fenceToken() + " of " + c.fenceName()
                                + " belongs to another session, not to the writing one",
                        List.of(),
                        version);
            }
        }
        if (version != c.expectedVersion()) {
            return new Failed(
                    ErrorCode.CONFLICT,
                    key + " is at version " + version + ", not " + c.expectedVersion(),
                    List.of(),
                    version);
        }
        if (current == null && stateEntries >= admission.quotas().stateEntries()) {
            return admission.stateEntriesExceeded(stateEntries);
        }
        long next = bytes - (current == null ? 0 : current.value.length) + c.value().length;
        if (next > admission.quotas().registerBytes()) {
            return admission.quotaExceeded(Admission.REGISTER_BYTES, "register values would take " + next + " bytes");
        }
        registers.put(key, new Register(version + 1, c.value().clone()));
        bytes = next;
        return new Reply.Written(version + 1);
    }

    /** The register's value, or empty if it was never written. */
    Optional<RegisterValue> get(String key) {
        Register reg = registers.get(key);
        return reg == null ? Optional.empty() : Optional.of(new RegisterValue(reg.version, reg.value.clone()));
    }

    int size() {
        return registers.size();
    }

    /** Bytes of every value together. */
    long bytes() {
        return bytes;
    }

    /** The registers themselves, for the snapshot codec (which calls {@link #recount} after filling it). */
    Map<String, Register> map() {
        return registers;
    }

    /** Copies every register (versions and values) into {@code into}, for a restored table. */
    void copyInto(Registers into) {
        for (Map.Entry<String, Register> e : registers.entrySet()) {
            into.registers.put(
                    e.getKey(),
                    new Register(e.getValue().version, e.getValue().value.clone()));
        }
        into.recount();
    }

    /** Rebuilds the byte count from the values. */
    void recount() {
        bytes = 0;
        for (Register r : registers.values()) {
            bytes += r.value.length;
        }
    }
}
