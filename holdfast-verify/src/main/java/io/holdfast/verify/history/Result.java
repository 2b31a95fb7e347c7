package io.holdfast.verify.history;

/**
 * What an operation's completion said: one record per kind of answer, each with only its own
 * fields. {@link Op#complete} writes one as the flat completion of an invoke and {@link Op#result}
 * reads it back; the history on disk keeps the flat form of {@link Op}.
 *
 * <p>Which answers a {@link Call} can get:
 *
 * <ul>
 *   <li>{@link Call.Acquire}: {@link Granted}, {@link Refused} (certainly not granted: {@code
 *       TIMEOUT}, {@code INVALID_ARGUMENT}, …) or {@link Unknown} (it may have been granted).
 *   <li>{@link Call.Release} and {@link Call.ForeignRelease}: {@link Released}, {@link Refused}
 *       ({@code LOST}, {@code NOT_OWNER}) or {@link Unknown}.
 *   <li>{@link Call.RegisterRead}: {@link RegisterState} or {@link Unknown}.
 *   <li>{@link Call.RegisterWrite}: {@link Written}, {@link Refused} ({@code CONFLICT}: the version
 *       did not match) or {@link Unknown} (the write may have landed).
 *   <li>{@link Call.KeyGet} and {@link Call.KeyList}: {@link KeyState} or {@link Unknown}.
 *   <li>{@link Call.KeyTxn}: {@link Transacted}, {@link Refused} (nothing changed) or {@link Unknown}.
 * </ul>
 *
 * A {@link Call.Notice} has no answer.
 */
public sealed interface Result {

    /** The completion type this answer is written as. */
    Op.Type type();

    /** Why a call was refused or its outcome is unknown; null for a success. */
    default String why() {
        return null;
    }

    /** The call succeeded: completion type OK. */
    sealed interface Ok extends Result {
        @Override
        default Op.Type type() {
            return Op.Type.OK;
        }
    }

    /** An acquire (or a campaign) was granted the lease with {@code token} (an election's epoch). */
    record Granted(long token) implements Ok {}

    /** A release gave the lease back. */
    record Released() implements Ok {}

    /** A register read saw {@code version} and {@code value} (0/0 when the register is empty). */
    record RegisterState(long version, long value) implements Ok {}

    /** A register compare-and-set was applied; the register is now at {@code newVersion}. */
    record Written(long newVersion) implements Ok {}

    /**
     * A key read or listing saw {@code entries}: for a read the one key (version 0 when absent), for
     * a listing the keys present, in order.
     */
    record KeyState(java.util.List<KeyValue> entries) implements Ok {
        public KeyState {
            entries = java.util.List.copyOf(entries);
        }
    }

    /**
     * A transaction ran: its compares all held ({@code succeeded}: its puts were applied, then its
     * gets read) or not (only its gets read). {@code entries} are its ops' answers in order: for a
     * put the key, its new version and the value written; for a get the key's version (0: absent)
     * and value.
     */
    record Transacted(boolean succeeded, java.util.List<KeyValue> entries) implements Ok {
        public Transacted {
            entries = java.util.List.copyOf(entries);
        }
    }

    /** The call certainly had no effect, for the reason {@code why} names (completion type FAIL). */
    record Refused(String why) implements Result {
        /** An acquire not granted within its wait (or a try of a busy lock). */
        public static final String TIMEOUT = "TIMEOUT";

        /** A register write whose expected version did not match. */
        public static final String CONFLICT = "CONFLICT";

        /** A release of a lease the client had learnt was lost. */
        public static final String LOST = "LOST";

        /** Whether this refusal is for {@code reason}. */
        public boolean is(String reason) {
            return reason.equals(why);
        }

        @Override
        public Op.Type type() {
            return Op.Type.FAIL;
        }
    }

    /**
     * The client could not tell whether the call took effect (completion type UNKNOWN); {@code
     * why} names what it heard ("UNAVAILABLE", "NO_ANSWER", …).
     */
    record Unknown(String why) implements Result {
        @Override
        public Op.Type type() {
            return Op.Type.UNKNOWN;
        }
    }
}
