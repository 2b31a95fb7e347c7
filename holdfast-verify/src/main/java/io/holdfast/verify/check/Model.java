package io.holdfast.verify.check;

import java.util.List;

/**
 * The sequential specification of one key, as {@link Search} uses it (Porcupine's model: an initial
 * state and a step function over values that compare with {@code equals}). A model also says which
 * of a key's operations constrain the order, as {@link Move}s: the search knows only moves, states
 * and time.
 *
 * <p>A model instance belongs to one key: {@link #moves} is called once, and {@link #step} takes the
 * index of one of the moves it returned.
 *
 * @param <S> the state: an immutable value whose {@code equals} and {@code hashCode} compare what
 *     the model would do next (the search remembers the states it has seen)
 */
interface Model<S> {
    /** The moves of the key's operations (in invoke order), in the order the search indexes them. */
    List<Move> moves(List<Operation> ops);

    /** The state before any operation. */
    S init();

    /** The state after move {@code move} takes effect in {@code state}, or null where it cannot. */
    S step(S state, int move);

    /** The state in words, for a failure report ("held by c1:3 (token 7), highest token 7"). */
    String describe(S state);

    /** What a failure report adds about operations the model left out, or "". */
    default String notes() {
        return "";
    }

    /**
     * One step the search places.
     *
     * @param source the operation it comes from
     * @param call the earliest time it may take effect
     * @param optional whether it may also never take effect (then it has no deadline); otherwise it
     *     takes effect before {@code source} returned
     * @param cancels for an optional move that undoes an optional effect (the removal of an unknown
     *     grant's hold), that effect's move index, else -1: the search treats the two placed together
     *     as neither placed (a configuration with more moves unused dominates)
     * @param label how a report names the move when it is not {@code source} itself ("hold of c1:3
     *     removed"), else null; such moves are not listed among the open operations
     * @param lazy for an optional move: the search places it only where a required move open at that
     *     point cannot take effect, and can right after it (the model says that nothing else is
     *     lost by that)
     */
    record Move(Operation source, long call, boolean optional, int cancels, String label, boolean lazy) {
        static Move of(Operation source) {
            return new Move(source, source.start(), false, -1, null, false);
        }

        static Move maybe(Operation source) {
            return new Move(source, source.start(), true, -1, null, false);
        }

        /** An optional move the search places only to let an open required move take effect. */
        static Move lazy(Operation source) {
            return new Move(source, source.start(), true, -1, null, true);
        }

        /** When it must have taken effect: the operation's return, or never for an optional move. */
        long ret() {
            return optional ? Long.MAX_VALUE : source.end();
        }

        String describe(long origin) {
            return label != null ? label : source.describe(origin);
        }
    }
}
