package io.holdfast.verify.history;

import io.holdfast.verify.history.Op.Kind;

/**
 * What a client asked for, or was told without asking: one record per kind of operation, each with
 * only its own fields; what it was answered is a {@link Result}. An {@link Op} stamps one with its
 * process, seq, time and phase ({@link Op#of}) and gives it back ({@link Op#call}); the history on
 * disk keeps the flat form of {@link Op}.
 */
public sealed interface Call {

    /**
     * The lock, register or election the operation is about; for an operation on keys, the group of
     * keys it belongs to ({@link KeyValue#space}), which the checkers take as one object.
     */
    String key();

    /** What the client was told without asking: a notice stands alone, with no completion. */
    sealed interface Notice extends Call {}

    /** An operation on keys: a read, a listing or a transaction. */
    sealed interface OnKeys extends Call {}

    /** An operation on a lease of a {@link Target}. */
    sealed interface OnLease extends Call {
        Target target();

        @Override
        default String key() {
            return target().key();
        }
    }

    /**
     * What a lease is held on: the key, what is locked there, how many permits it takes and, for a
     * semaphore, how many there are (0 otherwise).
     */
    record Target(String key, Kind kind, int permits, int limit) {
        /** The exclusive lock {@code key} (an election's lock too). */
        public static Target lock(String key) {
            return new Target(key, Kind.LOCK, 1, 0);
        }
    }

    /**
     * An acquire of {@code target}: tried once, or waiting up to {@code waitMillis}. Answered {@link
     * Result.Granted} with the token, {@link Result.Refused} when not granted (timed out, refused) or
     * {@link Result.Unknown}.
     */
    record Acquire(Target target, boolean tryOnly, long waitMillis) implements OnLease {}

    /**
     * A release of the lease with {@code token}. Answered {@link Result.Released}, {@link
     * Result.Refused} ({@code LOST}: the client learnt the lease had been lost) or {@link
     * Result.Unknown}.
     */
    record Release(Target target, long token) implements OnLease {}

    /** An intruder's release of the lease with {@code token} on {@code key}, which it does not hold. */
    record ForeignRelease(String key, long token) implements Call {}

    /** A register read; answered {@link Result.RegisterState} (0/0 when empty) or {@link Result.Unknown}. */
    record RegisterRead(String key) implements Call {}

    /**
     * A register compare-and-set of {@code value} if the version is {@code expectedVersion}; answered
     * {@link Result.Written} with the new version, {@link Result.Refused} ({@code CONFLICT}: the
     * version did not match) or {@link Result.Unknown}.
     */
    record RegisterWrite(String key, long expectedVersion, long value) implements Call {}

    /** A notice: the lease with {@code token} on {@code target} was lost, as {@code why} says. */
    record Lost(Target target, long token, String why) implements OnLease, Notice {}

    /** A notice: the lease with {@code token} on {@code target} answered {@code isValid()} true. */
    record Valid(Target target, long token) implements OnLease, Notice {}

    /** A notice: a leader of {@code key} (an election) begins a step of its work with {@code epoch}. */
    record Work(String key, long epoch) implements Notice {}

    /**
     * A notice of what an observer of the election {@code key} was told: the leader's {@code epoch}
     * (0: nobody leads) and the {@code value} it proclaimed (null: not yet).
     */
    record Observed(String key, long epoch, String value) implements Notice {}

    /** A read of the key {@code name}; answered {@link Result.KeyState} (one entry, version 0 when absent) or {@link Result.Unknown}. */
    record KeyGet(String name) implements OnKeys {
        @Override
        public String key() {
            return KeyValue.space(name);
        }
    }

    /**
     * A listing of every key under {@code prefix}, read at one point; answered {@link Result.KeyState}
     * (the keys present, in order) or {@link Result.Unknown}.
     */
    record KeyList(String prefix) implements OnKeys {
        @Override
        public String key() {
            return KeyValue.space(prefix);
        }
    }

    /**
     * A transaction, one step of the service: when every compare holds (each key at the version
     * given, 0 for absent) and, with {@code fenceLock}, the lease with {@code fenceToken} on that lock
     * is still the session's grant, it writes {@code puts} (attached to the session when {@code
     * attached}) and then reads {@code gets}; otherwise it reads {@code gets} only. Answered {@link
     * Result.Transacted}, {@link Result.Refused} (nothing changed) or {@link Result.Unknown} (it may
     * have run).
     *
     * @param compares the keys and the versions they must have
     * @param fenceLock the lock of the fence compare, or null for none
     * @param fenceToken the fence's token (0 without a fence)
     * @param puts the keys and the values written when the compares hold (their versions unused)
     * @param attached whether the puts are attached to the session
     * @param gets the keys read after the puts, or alone when a compare fails
     */
    record KeyTxn(
            java.util.List<KeyValue> compares,
            String fenceLock,
            long fenceToken,
            java.util.List<KeyValue> puts,
            boolean attached,
            java.util.List<String> gets)
            implements OnKeys {
        public KeyTxn {
            compares = java.util.List.copyOf(compares);
            puts = java.util.List.copyOf(puts);
            gets = java.util.List.copyOf(gets);
        }

        /** Every key the transaction names, compares, puts and gets, in that order. */
        public java.util.List<String> keys() {
            java.util.List<String> all = new java.util.ArrayList<>();
            compares.forEach(c -> all.add(c.key()));
            puts.forEach(p -> all.add(p.key()));
            all.addAll(gets);
            return all;
        }

        @Override
        public String key() {
            java.util.List<String> all = keys();
            return all.isEmpty() ? null : KeyValue.space(all.get(0));
        }
    }

    /**
     * A put of {@code value} to the key {@code name} whatever its version, owned by the open session
     * {@code lease} ({@code PutOptions.lease}: another client's) or, when null, by none. Answered
     * {@link Result.KeyState} with the key as written (version and owner), {@link Result.Refused}
     * ({@code CONFLICT}: the lease was no open session; nothing written) or {@link Result.Unknown}.
     */
    record KeyPut(String name, long value, String lease) implements OnKeys {
        @Override
        public String key() {
            return KeyValue.space(name);
        }
    }

    /**
     * A delete of every key under {@code prefix}, a page at a time (each page one step, the whole
     * not); answered {@link Result.KeyState} with no entries once every page went, or {@link
     * Result.Unknown}.
     */
    record KeyDeletePrefix(String prefix) implements OnKeys {
        @Override
        public String key() {
            return KeyValue.space(prefix);
        }
    }

    /**
     * A close of the client whose session is {@code session}, answered {@link Result.Released} when
     * the close returned: the session ended then if the service heard the close, else it expires
     * after its TTL (the close says which to nobody).
     */
    record SessionClose(String session) implements Call {
        @Override
        public String key() {
            return null;
        }
    }

    /**
     * A notice of a group's membership as the process's group client saw it: {@code event} is
     * {@link #JOINED} (a join returned), {@link #REJOINED} or {@link #REJOIN_FAILED} (the recipe's
     * rejoin listener) for the member's key {@code member} with the session that owns it and its
     * version (the holder only, for a failure), {@link #LOST}: that client's session {@code
     * session} was lost, or {@link #REESTABLISHED}: it opened the new session {@code session}
     * ({@code member} null for both).
     */
    record Member(String event, String member, String session, long version) implements Notice {
        public static final String JOINED = "JOINED";
        public static final String REJOINED = "REJOINED";
        public static final String REJOIN_FAILED = "REJOIN_FAILED";
        public static final String LOST = "LOST";
        public static final String REESTABLISHED = "REESTABLISHED";

        @Override
        public String key() {
            return member == null ? session : member;
        }
    }

    /**
     * A notice of what a watch reported: {@code event} (a {@code WatchEvent.Type}: ACQUIRED,
     * RELEASED, REGISTER_SET, REGISTER_DELETED, STATE) on the lock or key {@code name}, by {@code
     * session}, with the grant's {@code token} or the key's {@code version}, {@code cause} (null
     * where none) and {@code position}, the event's place in the service's order of changes
     * ("index.ordinal": one log entry's changes share the index).
     */
    record Watched(String name, String event, String session, long token, long version, String cause, String position)
            implements Notice {
        @Override
        public String key() {
            return name;
        }

        /** The log index of the position ("12.3" → 12), or -1 when it has none. */
        public long index() {
            int dot = position == null ? -1 : position.indexOf('.');
            try {
                return Long.parseLong(dot < 0 ? position : position.substring(0, dot));
            } catch (NumberFormatException | NullPointerException e) {
                return -1;
            }
        }
    }
}
