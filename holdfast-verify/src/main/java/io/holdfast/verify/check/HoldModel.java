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
import java.util.Objects;

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
 *
 * <p><b>Optional moves in one canonical order.</b> Unknown grants and removals are what multiplies a
 * search (each may take effect at any point, or never), and most of their orders show nothing new.
 * An extra holder only ever makes a request fit less, so the one move it can help is a refused try;
 * a removal only ever makes requests fit more. So {@link #step} accepts them only here:
 *
 * <ul>
 *   <li>an unknown grant only in a block right before a refused try, each of the block's grants
 *       needed there (the try would fit without it; at most {@link #witnesses} of them), in move
 *       order. Where one holder is enough to refuse a try (a lock, a read-write lock) unknown
 *       grants are {@linkplain Move#lazy lazy} moves, so the search does not even try one where no
 *       open try needs it;
 *   <li>a removal only right after its own known grant, or among the removals right after a
 *       refused try, in move order.
 * </ul>
 *
 * <p>This loses no history the rules above accept: in any legal order, an unknown grant can move
 * later to the first refused try that needs it (or go, with its removal, if none does), and a
 * removal earlier to just after the last refused try before it (or its own grant), since everything
 * they cross is a grant, which fits as well or better, or the release or removal of another hold.
 * Nothing moves across its own operation's invoke: an unknown grant only moves later, a removal
 * stays after its grant, which has the same invoke. The argument needs a request that fits beside
 * some holders to fit beside any of them, as it does in the three models.
 */
abstract sealed class HoldModel implements Model<HoldModel.Holders>
        permits LockModel, ReadWriteLockModel, SemaphoreModel {

    /**
     * The holders (grant move indexes, sorted), the highest token granted so far, and where the
     * search stands in the canonical order of optional moves (see {@link HoldModel}): after which
     * move it is ({@link #mode}, {@link #anchor}), and the unknown grants placed for the next try's
     * refusal ({@link #block}).
     */
    static final class Holders {
        /** Nothing optional may follow but an unknown grant that opens a block. */
        static final byte PLAIN = 0;
        /** Just after the known grant {@link #anchor}: its own hold may be removed. */
        static final byte AFTER_GRANT = 1;
        /** Just after a refused try, and removals: holds removed above index {@link #anchor}. */
        static final byte AFTER_TRY = 2;
        /** Unknown grants in {@link #block}, the last {@link #anchor}: more of them, or the try. */
        static final byte BLOCK = 3;

        final int[] holds;
        final long maxToken;
        final byte mode;
        final int anchor;
        final int[] block;
        private final int hash;

        Holders(int[] holds, long maxToken, byte mode, int anchor, int[] block) {
            this.holds = holds;
            this.maxToken = maxToken;
            this.mode = mode;
            this.anchor = anchor;
            this.block = block;
            this.hash = Objects.hash(Arrays.hashCode(holds), maxToken, mode, anchor, Arrays.hashCode(block));
        }

        boolean holds(int grant) {
            return Arrays.binarySearch(holds, grant) >= 0;
        }

        Holders with(int grant, long token, byte mode, int[] block) {
            int[] h = Arrays.copyOf(holds, holds.length + 1);
            h[holds.length] = grant;
            Arrays.sort(h);
            return new Holders(h, Math.max(maxToken, token), mode, grant, block);
        }

        Holders without(int grant, byte mode, int anchor) {
            return new Holders(HoldModel.without(holds, grant), maxToken, mode, anchor, NONE);
        }

        Holders at(byte mode, int anchor) {
            return new Holders(holds, maxToken, mode, anchor, NONE);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Holders s
                    && s.hash == hash
                    && s.maxToken == maxToken
                    && s.mode == mode
                    && s.anchor == anchor
                    && Arrays.equals(s.holds, holds)
                    && Arrays.equals(s.block, block);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private static final int[] NONE = new int[0];

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
    private int witnesses = 1;

    /**
     * Whether the request of the acquire {@code wanted} may be granted while {@code holders} hold
     * (what each acquire asked for: kind, permits, limit).
     */
    abstract boolean fits(Call.Target wanted, List<Call.Target> holders);

    /**
     * The most holders a try of {@code wanted}'s object may need at once to be refused, counting
     * none it would be refused without: 1 for a lock or read-write lock, where one holder (one
     * writer, for a read) is enough.
     */
    int witnesses(Call.Target wanted) {
        return 1;
    }

    @Override
    public List<Move> moves(List<Operation> ops) {
        for (Operation o : ops) {
            if (o.call() instanceof Call.Acquire acquire) {
                witnesses = Math.max(witnesses, witnesses(acquire.target()));
            }
        }
        boolean lazyGrants = witnesses == 1;
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
                grants.add(add(lazyGrants ? Move.lazy(o) : Move.maybe(o), Effect.GRANT_UNKNOWN, -1));
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
                add(new Move(grant.source(), grant.call(), true, cancels, label, false), Effect.DROP, g);
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
        return new Holders(NONE, Long.MIN_VALUE, Holders.PLAIN, -1, NONE);
    }

    @Override
    public Holders step(Holders s, int move) {
        Effect effect = effects.get(move);
        if (s.mode == Holders.BLOCK && effect != Effect.GRANT_UNKNOWN && effect != Effect.TRY_FAIL) {
            return null;
        }
        switch (effect) {
            case GRANT: {
                long token = moves.get(move).source().token();
                return fits(s.holds, move) && token > s.maxToken
                        ? s.with(move, token, Holders.AFTER_GRANT, NONE)
                        : null;
            }
            case GRANT_UNKNOWN: {
                boolean more = s.mode == Holders.BLOCK;
                if (more && (move < s.anchor || s.block.length >= witnesses) || !fits(s.holds, move)) {
                    return null;
                }
                int[] block = Arrays.copyOf(s.block, s.block.length + 1);
                block[s.block.length] = move;
                return s.with(move, Long.MIN_VALUE, Holders.BLOCK, block);
            }
            case TRY_FAIL:
                if (fits(s.holds, move)) {
                    return null;
                }
                for (int b : s.block) {
                    if (!fits(without(s.holds, b), move)) {
                        return null; // the try is refused without b too: b waits for a try that needs it
                    }
                }
                return s.at(Holders.AFTER_TRY, -1);
            case RELEASE: {
                int hold = holdOf.get(move);
                return s.holds(hold) ? s.without(hold, Holders.PLAIN, -1) : null;
            }
            default: { // DROP
                int hold = holdOf.get(move);
                if (!s.holds(hold)) {
                    return null;
                }
                if (s.mode == Holders.AFTER_GRANT && s.anchor == hold) {
                    return s.without(hold, Holders.PLAIN, -1);
                }
                return s.mode == Holders.AFTER_TRY && move > s.anchor ? s.without(hold, Holders.AFTER_TRY, move) : null;
            }
        }
    }

    private static int[] without(int[] holds, int grant) {
        int[] h = new int[holds.length - 1];
        int j = 0;
        for (int x : holds) {
            if (x != grant) {
                h[j++] = x;
            }
        }
        return h;
    }

    private boolean fits(int[] holds, int move) {
        List<Call.Target> holders = new AbstractList<>() {
            @Override
            public Call.Target get(int i) {
                return moves.get(holds[i]).source().target();
            }

            @Override
            public int size() {
                return holds.length;
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
