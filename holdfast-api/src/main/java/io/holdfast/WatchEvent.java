package io.holdfast;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One change a watch reports ({@link LockClient#watch}), or the state it starts from.
 *
 * <p>A watch first delivers {@link Type#STATE}: every watched lock that is held or waited for, as
 * {@link #locks()} (or the register's version and value). Then one event per change, in the order
 * the service made them. After a gap it could not fill (the service forgot the events it missed;
 * see {@link LockClient#watch}) it delivers {@code STATE} again: the new complete state, which
 * replaces everything the listener knew.
 *
 * <p>{@link #position()} is where the event stands in the service's order of changes: opaque text
 * that grows with every change (on the Holdfast server {@code "index.ordinal"}, the same at every
 * member).
 *
 * @param type what happened
 * @param name the lock's name, or the register's key; for {@code STATE}, what was watched
 * @param sessionId the session that acquired, released, waited or wrote; null where unknown (a
 *     change seen by polling, a {@code STATE})
 * @param fencingToken the grant's token for {@code ACQUIRED} and {@code RELEASED}; else 0
 * @param mode how the grant holds (or the waiter wants) the lock; null for registers and {@code
 *     STATE}
 * @param cause why a holder left ({@code RELEASED}) or a wait ended ({@code WAIT_ENDED}); else null
 * @param version the register's version after a write ({@code REGISTER_SET}, and a register's
 *     {@code STATE}: 0 when it was never written); else 0
 * @param value the register's value at that version; null when it has none, and for locks
 * @param locks for a lock {@code STATE}: every watched lock that is held or waited for; else empty
 * @param keys for the {@code STATE} of a watch of keys ({@link WatchTarget#keys}): every key under
 *     the prefix; else empty
 * @param position where this event stands in the service's order of changes
 */
public record WatchEvent(
        Type type,
        String name,
        String sessionId,
        long fencingToken,
        LockMode mode,
        Cause cause,
        long version,
        byte[] value,
        List<LockInfo> locks,
        List<KeyEntry> keys,
        String position) {

    /** What a watch event reports. */
    public enum Type {
        /** The complete state of what is watched: at the start of a watch, and after a gap. */
        STATE,
        /** A session was granted the lock (or permits, or a read lock). */
        ACQUIRED,
        /** A holder left: released, its lease ran out, its session ended, or it was revoked. */
        RELEASED,
        /** A session began to wait for the lock. */
        QUEUED,
        /** A wait ended without a grant (a grant is {@code ACQUIRED}). */
        WAIT_ENDED,
        /** A register was written: {@link #version()} and {@link #value()} are its new state. */
        REGISTER_SET,
        /**
         * A key was deleted: {@link #version()} is the version it had, {@link #cause()} why (null:
         * deleted by a client; its session ended; its time to live passed).
         */
        REGISTER_DELETED
    }

    /** Why a holder left, or a wait ended. */
    public enum Cause {
        /** The holder released it. */
        RELEASED,
        /** The grant's lease timeout passed without a renewal; or a key's time to live passed. */
        LEASE_TIMEOUT,
        /** The holder's session expired: no heartbeat for its TTL. */
        SESSION_EXPIRED,
        /** The holder's session was closed by its client. */
        SESSION_CLOSED,
        /** An operator revoked the lock. */
        REVOKED,
        /** The wait reached its deadline. */
        TIMED_OUT,
        /** The waiter withdrew it. */
        CANCELLED,
        /** The change was seen by polling, which does not learn why. */
        UNKNOWN
    }

    public WatchEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
        value = value == null ? null : value.clone();
        locks = locks == null ? List.of() : List.copyOf(locks);
        keys = keys == null ? List.of() : List.copyOf(keys);
        position = position == null ? "" : position;
    }

    /** A copy of the register's value; null for none. */
    @Override
    public byte[] value() {
        return value == null ? null : value.clone();
    }

    /** The length of the register's value in bytes, without copying it; 0 when it has none. */
    public int valueLength() {
        return value == null ? 0 : value.length;
    }

    /** The same event at a position in the service's order of changes. */
    public WatchEvent at(String newPosition) {
        return new WatchEvent(
                type, name, sessionId, fencingToken, mode, cause, version, value, locks, keys, newPosition);
    }

    /** A grant: {@code sessionId} holds {@code name} with {@code fencingToken}. */
    public static WatchEvent acquired(String name, String sessionId, long fencingToken, LockMode mode) {
        return new WatchEvent(Type.ACQUIRED, name, sessionId, fencingToken, mode, null, 0, null, null, null, null);
    }

    /** A holder left. */
    public static WatchEvent released(String name, String sessionId, long fencingToken, LockMode mode, Cause cause) {
        return new WatchEvent(Type.RELEASED, name, sessionId, fencingToken, mode, cause, 0, null, null, null, null);
    }

    /** A wait began. */
    public static WatchEvent queued(String name, String sessionId, LockMode mode) {
        return new WatchEvent(Type.QUEUED, name, sessionId, 0, mode, null, 0, null, null, null, null);
    }

    /** A wait ended without a grant. */
    public static WatchEvent waitEnded(String name, String sessionId, LockMode mode, Cause cause) {
        return new WatchEvent(Type.WAIT_ENDED, name, sessionId, 0, mode, cause, 0, null, null, null, null);
    }

    /** A register write. */
    public static WatchEvent registerSet(String key, String sessionId, long version, byte[] value) {
        return new WatchEvent(Type.REGISTER_SET, key, sessionId, 0, null, null, version, value, null, null, null);
    }

    /** A key deletion: the version the key had, and why (null: a client deleted it). */
    public static WatchEvent registerDeleted(String key, String sessionId, long version, Cause cause) {
        return new WatchEvent(Type.REGISTER_DELETED, key, sessionId, 0, null, cause, version, null, null, null, null);
    }

    /** The state of watched locks: those of {@code locks} (the held or waited-for ones). */
    public static WatchEvent lockState(String watched, List<LockInfo> locks) {
        return new WatchEvent(Type.STATE, watched, null, 0, null, null, 0, null, locks, null, null);
    }

    /** The state of a watched register: version 0 and no value when it was never written. */
    public static WatchEvent registerState(String key, long version, byte[] value) {
        return new WatchEvent(Type.STATE, key, null, 0, null, null, version, value, null, null, null);
    }

    /** The state of a watch of keys: every key under {@code prefix}. */
    public static WatchEvent keyState(String prefix, List<KeyEntry> keys) {
        return new WatchEvent(Type.STATE, prefix, null, 0, null, null, 0, null, null, keys, null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WatchEvent e
                && type == e.type
                && name.equals(e.name)
                && Objects.equals(sessionId, e.sessionId)
                && fencingToken == e.fencingToken
                && mode == e.mode
                && cause == e.cause
                && version == e.version
                && Arrays.equals(value, e.value)
                && locks.equals(e.locks)
                && keys.equals(e.keys)
                && position.equals(e.position);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, name, sessionId, fencingToken, version, position) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        StringBuilder b =
                new StringBuilder("WatchEvent[").append(type).append(' ').append(name);
        if (sessionId != null) {
            b.append(" session ").append(sessionId);
        }
        if (fencingToken != 0) {
            b.append(" token ").append(fencingToken);
        }
        if (cause != null) {
            b.append(' ').append(cause);
        }
        if (type == Type.REGISTER_SET
                || type == Type.REGISTER_DELETED
                || (type == Type.STATE && locks.isEmpty() && keys.isEmpty() && version > 0)) {
            b.append(" version ").append(version);
        }
        if (type == Type.STATE && !locks.isEmpty()) {
            b.append(' ').append(locks.size()).append(" locks");
        }
        if (type == Type.STATE && !keys.isEmpty()) {
            b.append(' ').append(keys.size()).append(" keys");
        }
        return b.append(position.isEmpty() ? "" : " at " + position).append(']').toString();
    }
}
