package io.holdfast.verify.history;

import io.holdfast.verify.history.Op.Kind;

/**
 * What a client asked for, or was told without asking: one record per kind of operation, each with
 * only its own fields; what it was answered is a {@link Result}. An {@link Op} stamps one with its
 * process, seq, time and phase ({@link Op#of}) and gives it back ({@link Op#call}); the history on
 * disk keeps the flat form of {@link Op}.
 */
public sealed interface Call {

    /** The lock, register or election the operation is about. */
    String key();

    /** What the client was told without asking: a notice stands alone, with no completion. */
    sealed interface Notice extends Call {}

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
}
