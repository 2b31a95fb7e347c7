package io.holdfast.model;

import io.holdfast.ErrorCode;
import java.util.List;

/** What the lock table answers to a command. Normal outcomes are replies, never exceptions. */
public sealed interface Reply {
    /**
     * Calls the visitor's method for this reply's type. The places that must treat every reply
     * (the log codec, the wire conversion, the metrics, the HTTP answers) are visitors, so a new
     * reply does not compile until each says what it does with it.
     */
    <R> R accept(Visitor<R> visitor);

    /**
     * The fencing tokens this reply grants, in the order of its names: one for {@link Granted},
     * every name's for {@link GrantedAll}, none for any other reply.
     */
    default List<Long> grantedTokens() {
        return List.of();
    }

    /**
     * One method per reply.
     *
     * @param <R> what the visit gives back
     */
    interface Visitor<R> {
        R ok(Ok r);

        R granted(Granted r);

        R grantedAll(GrantedAll r);

        R queued(Queued r);

        R busy(Busy r);

        R written(Written r);

        R failed(Failed r);

        R counted(Counted r);

        R transacted(Transacted r);
    }

    /** Done; {@code value} is a count where one makes sense (holds revoked), else 0. */
    record Ok(long value) implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.ok(this);
        }

        public static final Ok INSTANCE = new Ok(0);
    }

    /** Granted now, with the fencing token of the grant. */
    record Granted(long token) implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.granted(this);
        }

        @Override
        public List<Long> grantedTokens() {
            return List.of(token);
        }
    }

    /**
     * A multi-lock ({@link Command.AcquireAll}) granted now: the fencing token of each name's
     * grant, in the order of the names.
     */
    record GrantedAll(List<Long> tokens) implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.grantedAll(this);
        }

        @Override
        public List<Long> grantedTokens() {
            return tokens;
        }

        public GrantedAll {
            tokens = List.copyOf(tokens);
        }
    }

    /**
     * Queued; a {@link Event.Granted} (for a multi-lock: one per name, in name order, one after the
     * other) or a {@link Event.WaitTimedOut} event follows.
     */
    record Queued() implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.queued(this);
        }

        public static final Queued INSTANCE = new Queued();
    }

    /** A try found the lock busy. */
    record Busy() implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.busy(this);
        }

        public static final Busy INSTANCE = new Busy();
    }

    /** A register was written; this is its new version. */
    record Written(long version) implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.written(this);
        }
    }

    /** A counter was added to ({@link CounterAdd}): its new value and the key's new version. */
    record Counted(long value, long version) implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.counted(this);
        }
    }

    /**
     * A {@link Transaction} ran: {@code succeeded} when every compare held and the {@code
     * then} branch ran, else the {@code otherwise} branch ran; one result per op of that branch, in
     * order.
     */
    record Transacted(boolean succeeded, List<OpResult> results) implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.transacted(this);
        }

        public Transacted {
            results = List.copyOf(results);
        }
    }

    /**
     * What one op of a transaction did.
     *
     * @param version a put's or an add's new version; a delete's version the key had; a get's
     *     version (0: absent for both)
     * @param value a get's value (null: absent); null for the other ops
     * @param counter an add's new value; 0 for the other ops
     */
    record OpResult(long version, byte[] value, long counter) {
        public OpResult {
            value = value == null ? null : value.clone();
        }

        @Override
        public byte[] value() {
            return value == null ? null : value.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OpResult r
                    && version == r.version
                    && java.util.Arrays.equals(value, r.value)
                    && counter == r.counter;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(version, java.util.Arrays.hashCode(value), counter);
        }

        @Override
        public String toString() {
            return "OpResult[version=" + version + ", value=" + (value == null ? "null" : value.length + " bytes")
                    + ", counter=" + counter + "]";
        }
    }

    /**
     * Refused, and nothing changed.
     *
     * @param cycle for {@link ErrorCode#DEADLOCK}: the lock names along the cycle
     * @param currentVersion for {@link ErrorCode#CONFLICT}: the register's version, or -1
     */
    record Failed(ErrorCode code, String message, List<String> cycle, long currentVersion) implements Reply {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.failed(this);
        }

        public Failed {
            cycle = List.copyOf(cycle);
        }

        public static Failed of(ErrorCode code, String message) {
            return new Failed(code, message, List.of(), -1);
        }
    }
}
