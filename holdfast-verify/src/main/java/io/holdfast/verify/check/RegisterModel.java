package io.holdfast.verify.check;

import io.holdfast.verify.history.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * A versioned register, as the service counts its versions: 0 when empty, one more per write.
 *
 * <ul>
 *   <li>REG_GET OK: legal when version and value are the register's.
 *   <li>REG_CAS OK: legal when the register is at the expected version and the new version is that
 *       plus one.
 *   <li>REG_CAS FAIL CONFLICT: legal when the version differs (the history does not record a fence,
 *       so a CAS fenced by a lease that is no longer current is not modelled).
 *   <li>REG_CAS UNKNOWN: applied at any point where it matches, or never.
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
            Op.Fn f = o.invoke().f();
            boolean unknown = o.completion() == null || o.outcome() == Op.Type.UNKNOWN;
            if (f == Op.Fn.REG_GET && o.ok()) {
                add(Move.of(o), Effect.GET);
            } else if (f == Op.Fn.REG_CAS && o.ok()) {
                add(Move.of(o), Effect.CAS_OK);
            } else if (f == Op.Fn.REG_CAS && unknown) {
                add(Move.maybe(o), Effect.CAS_UNKNOWN);
            } else if (f == Op.Fn.REG_CAS && "CONFLICT".equals(o.error())) {
                add(Move.of(o), Effect.CAS_FAIL);
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
        Op in = moves.get(move).source().invoke();
        Op c = moves.get(move).source().completion();
        return switch (effects.get(move)) {
            case GET -> s.version() == c.version() && s.value() == c.value() ? s : null;
            case CAS_OK ->
                s.version() == in.version() && c.newVersion() == in.version() + 1
                        ? new Register(c.newVersion(), in.value())
                        : null;
            case CAS_FAIL -> s.version() != in.version() ? s : null;
            case CAS_UNKNOWN -> s.version() == in.version() ? new Register(in.version() + 1, in.value()) : null;
        };
    }

    @Override
    public String describe(Register s) {
        return "register version " + s.version() + " value " + s.value();
    }
}
