package io.holdfast.core;

import io.holdfast.ErrorCode;
import java.util.List;

/** What {@link LockTable#apply} answers. Normal outcomes are replies, never exceptions. */
public sealed interface Reply {
    /** Done; {@code value} is a count where one makes sense (holds revoked), else 0. */
    record Ok(long value) implements Reply {
        public static final Ok INSTANCE = new Ok(0);
    }

    /**
     * Granted now, with the fencing token of the grant.
     *
     * @param holdCount the hold count after this grant (above 1 only for reentrant grants)
     */
    record Granted(long token, int holdCount) implements Reply {}

    /**
     * A multi-lock ({@link Command.AcquireAll}) granted now: the fencing token of each name's
     * grant, in the order of the names.
     */
    record GrantedAll(List<Long> tokens) implements Reply {
        public GrantedAll {
            tokens = List.copyOf(tokens);
        }
    }

    /**
     * Queued; a {@link Event.Granted} (for a multi-lock: one per name, in name order, one after the
     * other) or a {@link Event.WaitTimedOut} event follows.
     */
    record Queued() implements Reply {
        public static final Queued INSTANCE = new Queued();
    }

    /** A try found the lock busy. */
    record Busy() implements Reply {
        public static final Busy INSTANCE = new Busy();
    }

    /** A register was written; this is its new version. */
    record Written(long version) implements Reply {}

    /**
     * Refused, and nothing changed.
     *
     * @param cycle for {@link ErrorCode#DEADLOCK}: the lock names along the cycle
     * @param currentVersion for {@link ErrorCode#CONFLICT}: the register's version, or -1
     */
    record Failed(ErrorCode code, String message, List<String> cycle, long currentVersion) implements Reply {
        public Failed {
            cycle = List.copyOf(cycle);
        }

        public static Failed of(ErrorCode code, String message) {
            return new Failed(code, message, List.of(), -1);
        }
    }
}
