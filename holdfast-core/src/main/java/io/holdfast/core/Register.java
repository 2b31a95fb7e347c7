package io.holdfast.core;

/**
 * One key as {@link Registers} keeps it: its version, its value (the store's own copy: never
 * handed out), the session it is attached to, its time-to-live deadline, and whether it is an
 * election's record. Immutable: a write replaces the record.
 */
final class Register {
    final long version;
    final byte[] value;
    /** The session the key is attached to; null when none. */
    final String owner;
    /** The table time from which its time to live has passed; 0 when it has none. */
    final long deadline;
    /** The token of the leadership whose election record it is ({@link ElectionRecords}); 0 when none. */
    final long record;

    Register(long version, byte[] value) {
        this(version, value, null, 0);
    }

    Register(long version, byte[] value, String owner, long deadline) {
        this(version, value, owner, deadline, 0);
    }

    Register(long version, byte[] value, String owner, long deadline, long record) {
        this.version = version;
        this.value = value;
        this.owner = owner;
        this.deadline = deadline;
        this.record = record;
    }

    boolean leased() {
        return owner != null || deadline != 0;
    }
}
