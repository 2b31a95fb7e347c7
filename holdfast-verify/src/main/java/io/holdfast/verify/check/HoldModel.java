package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Result;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the lock, read-write lock and semaphore models share: holds granted with growing tokens and
 * ended by releases; a subclass says only which holds a request fits beside ({@link #fits}).
 *
 * <ul>
 *   <li>{@code Acquire} {@code Granted(token)}: a grant, legal when the request fits the holders and
 *       its token is larger than every token granted on the key so far.
 *   <li>A try's {@code Refused(TIMEOUT)}: legal only where the request does not fit. A free lock
 *       refuses a try while someone waits (FIFO), so a try that overlaps a blocking acquire of
 *       another process on the key is not constrained. A blocking acquire's {@code Refused(TIMEOUT)},
 *       and a refusal for any other reason, has no effect.
 *   <li>{@code Acquire} {@code Unknown} or without completion: a grant that may happen at any point
 *       after its invoke, or never (its token is unknown, so no token rule).
 *   <li>{@code Release} {@code Released}: removes the hold of the grant with the same process and
 *       token; legal only while that hold exists (so a second release of one lease cannot be
 *       placed). A refused or unknown release has no effect of its own.
 *   <li>Every hold not ended by a {@code Released} (lost, expired, released with an unknown
 *       outcome, the process killed) may be removed at any point after its acquire's invoke, or
 *       never.
 * </ul>
 */
abstract sealed class HoldModel implements Model<HoldModel.Holders>
        permits LockModel, ReadWriteLockModel, SemaphoreModel {

    /** The holders (grant move indexes, sorted) and the highest token granted so far. */
    static final class Holders {
        final int[] holds;
        final long maxToken;
        private final int hash;

        Holders(int[] holds, long maxToken) {
            this.holds = holds;
            this.maxToken = maxToken;
            this.hash = 31 * Arrays.hashCode(holds) + Long.hashCode(maxToken);
        }

        boolean holds(int grant) {
            return Arrays.binarySearch(holds, grant) >= 0;
        }

        Holders with(int grant, long token) {
            int[] h = Arrays.copyOf(holds, holds.length + 1);
            h[holds.length] = grant;
            Arrays.sort(h);
            return new Holders(h, Math.max(maxToken, token));
        }

        Holders without(int grant) {
            int[] h = new int[holds.length - 1];
            int j = 0;
            for (int x : holds) {
                if (x != grant) {
                    h[j++] = x;
                }
            }
            return new Holders(h, maxToken);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Holders s && s.hash == hash && s.maxToken == maxToken && Arrays.equals(s.holds, holds);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private enum Effect {
        GRANT,
        GRANT_UNKNOWN,
        TRY_FAIL,
        RELEASE,
        DROP
    }

    private final List<Move> moves = new ArrayList<>();
    private final List<Effect> effects = new ArrayList<>();
    // for a grant, release or removal: the grant move whose hold it is
    private final List<Integer> holdOf = new ArrayList<>();
    private int unmatchedReleases;

    /**
     * Whether the request of the acquire {@code wanted} may be granted while {@code holders} hold
     * (what each acquire asked for: kind, permits, limit).
     */
    abstract boolean fits(Call.Target wanted, List<Call.Target> holders);

    @Override
    public List<Move> moves(List<Operation> ops) {
        Map<String, Integer> grantByToken = new HashMap<>();
        List<Integer> grants = new ArrayList<>();
        for (Operation o : ops) {
            if (!(o.call() instanceof Call.Acquire acquire)) {
                continue;
            }
            if (o.result() instanceof Result.Granted granted) {
                int i = add(Move.of(o), Effect.GRANT, -1);
                grants.add(i);
                grantByToken.put(o.process() + "|" + granted.token(), i);
            } else if (o.unknown()) {
                grants.add(add(Move.maybe(o), Effect.GRANT_UNKNOWN, -1));
            } else if (acquire.tryOnly()
                    && o.result() instanceof Result.Refused refused
                    && refused.is(Result.Refused.TIMEOUT)
                    && !overlapsWaiter(o, ops)) {
                add(Move.of(o), Effect.TRY_FAIL, -1);
            }
        }
        BitSet released = new BitSet();
        for (Operation o : ops) {
            if (!(o.call() instanceof Call.Release release) || !(o.result() instanceof Result.Released)) {
                continue;
            }
            Integer g = grantByToken.get(o.process() + "|" + release.token());
            if (g == null) {
                unmatchedReleases++;
                continue;
            }
            add(Move.of(o), Effect.RELEASE, g);
            released.set(g);
        }
        for (int g : grants) {
            holdOf.set(g, g);
            if (!released.get(g)) {
                Move grant = moves.get(g);
                int cancels = effects.get(g) == Effect.GRANT_UNKNOWN ? g : -1;
                String label = "hold of " + grant.source().id() + " removed";
                add(new Move(grant.source(), grant.call(), true, cancels, label), Effect.DROP, g);
            }
        }
        return moves;
    }

    private int add(Move m, Effect e, int hold) {
        moves.add(m);
        effects.add(e);
        holdOf.add(hold);
        return moves.size() - 1;
    }

    /** Whether a blocking acquire of another process on the key was pending while this try ran. */
    private static boolean overlapsWaiter(Operation t, List<Operation> ops) {
        for (Operation o : ops) {
            if (o.call() instanceof Call.Acquire acquire
                    && !acquire.tryOnly()
                    && !o.process().equals(t.process())
                    && o.start() < t.end()
                    && o.end() > t.start()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public Holders init() {
        return new Holders(new int[0], Long.MIN_VALUE);
    }

    @Override
    public Holders step(Holders s, int move) {
        switch (effects.get(move)) {
            case GRANT:
                long token = moves.get(move).source().token();
                return fits(s, move) && token > s.maxToken ? s.with(move, token) : null;
            case GRANT_UNKNOWN:
                return fits(s, move) ? s.with(move, Long.MIN_VALUE) : null;
            case TRY_FAIL:
                return fits(s, move) ? null : s;
            default: // RELEASE, DROP
                int hold = holdOf.get(move);
                return s.holds(hold) ? s.without(hold) : null;
        }
    }

    private boolean fits(Holders s, int move) {
        List<Call.Target> holders = new AbstractList<>() {
            @Override
            public Call.Target get(int i) {
                return moves.get(s.holds[i]).source().target();
            }

            @Override
            public int size() {
                return s.holds.length;
            }
        };
        return fits(moves.get(move).source().target(), holders);
    }

    @Override
    public String describe(Holders s) {
        StringBuilder sb = new StringBuilder();
        if (s.holds.length == 0) {
            sb.append("no holder");
        } else {
            List<String> hs = new ArrayList<>();
            for (int h : s.holds) {
                Operation g = moves.get(h).source();
                hs.add(g.id() + (effects.get(h) == Effect.GRANT ? " (token " + g.token() + ")" : " (unknown acquire)"));
            }
            sb.append("held by ").append(String.join(", ", hs));
        }
        if (s.maxToken != Long.MIN_VALUE) {
            sb.append(", highest token ").append(s.maxToken);
        }
        return sb.toString();
    }

    @Override
    public String notes() {
        return unmatchedReleases == 0
                ? ""
                : " (" + unmatchedReleases + " release OK without a matching acquire OK ignored)";
    }
}
