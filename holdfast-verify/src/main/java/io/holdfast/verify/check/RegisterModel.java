package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.List;

/**
 * A versioned register, as the service counts its versions: 0 when empty, one more per write.
 *
 * <ul>
 *   <li>{@code RegisterRead} {@code RegisterState}: legal when version and value are the register's.
 *   <li>{@code RegisterWrite} {@code Written}: legal when the register is at the expected version
 *       and the new version is that plus one.
 *   <li>{@code RegisterWrite} {@code Refused(CONFLICT)}: legal when the version differs (the history
 *       does not record a fence, so a write fenced by a lease that is no longer current is not
 *       modelled).
 *   <li>{@code RegisterWrite} {@code Unknown}: applied at any point where it matches, or never.
 * </ul>
 */
final class RegisterModel implements Model<RegisterModel.Register> {
    /** The register's version and value. */
    record Register(long version, long value) {}

    private enum Effect {
        GET,
        CAS_OK,
        CAS_FAIL,
        CAS_UNKNOWN
    }

    private final List<Move> moves = new ArrayList<>();
    private final List<Effect> effects = new ArrayList<>();

    @Override
    public List<Move> moves(List<Operation> ops) {
        for (Operation o : ops) {
            Result r = o.result();
            if (o.call() instanceof Call.RegisterRead && r instanceof Result.RegisterState) {
                add(Move.of(o), Effect.GET);
            } else if (o.call() instanceof Call.RegisterWrite) {
                if (r instanceof Result.Written) {
                    add(Move.of(o), Effect.CAS_OK);
                } else if (o.unknown()) {
                    add(Move.maybe(o), Effect.CAS_UNKNOWN);
                } else if (r instanceof Result.Refused refused && refused.is(Result.Refused.CONFLICT)) {
                    add(Move.of(o), Effect.CAS_FAIL);
                }
            }
        }
        return moves;
    }

    private void add(Move m, Effect e) {
        moves.add(m);
        effects.add(e);
    }

    @Override
    public Register init() {
        return new Register(0, 0);
    }

    @Override
    public Register step(Register s, int move) {
        Operation o = moves.get(move).source();
        if (effects.get(move) == Effect.GET) {
            Result.RegisterState read = (Result.RegisterState) o.result();
            return s.version() == read.version() && s.value() == read.value() ? s : null;
        }
        Call.RegisterWrite write = (Call.RegisterWrite) o.call();
        long expected = write.expectedVersion();
        return switch (effects.get(move)) {
            case CAS_OK ->
                s.version() == expected && ((Result.Written) o.result()).newVersion() == expected + 1
                        ? new Register(expected + 1, write.value())
                        : null;
            case CAS_FAIL -> s.version() != expected ? s : null;
            default -> s.version() == expected ? new Register(expected + 1, write.value()) : null; // CAS_UNKNOWN
        };
    }

    @Override
    public String describe(Register s) {
        return "register version " + s.version() + " value " + s.value();
    }
}
