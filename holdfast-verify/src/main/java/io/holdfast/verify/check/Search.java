package io.holdfast.verify.check;

import io.holdfast.verify.check.Model.Move;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The linearizability search for one key against its {@link Model} (Wing and Gong, with Lowe's
 * just-in-time linearization and Porcupine's memo of (linearized set, state)). It knows moves,
 * states and time only; what an operation does is the model's.
 *
 * <p>Each move has a call time and, unless it is optional, a return time: it must take effect at
 * one point between them, in an order the model accepts. An optional move may take effect at any
 * point after its call, or never, so a search succeeds once every required move is placed. To keep
 * optional effects from multiplying the memo, an optional move undone by the move that {@link
 * Move#cancels cancels} it counts as "used up": a configuration with more moves still unused
 * dominates the same configuration with some used up, and a dominated configuration is not
 * explored again. A {@link Move#lazy lazy} optional move is tried only where it lets a required move
 * that is open there, and cannot take effect, take effect right after it; the model that marks a
 * move lazy answers for losing no order by that.
 *
 * @param <S> the model's state
 */
final class Search<S> {
    enum Outcome {
        LINEARIZABLE,
        NOT_LINEARIZABLE,
        GAVE_UP
    }

    private record MemoKey(long[] bits, Object state) {
        @Override
        public boolean equals(Object o) {
            return o instanceof MemoKey k && k.state.equals(state) && Arrays.equals(k.bits, bits);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(bits) + state.hashCode();
        }
    }

    private final String key;
    private final Model<S> model;
    private final long budget;
    private final long origin;
    private final List<Move> steps;
    // for each move, the move that cancels it, or -1
    private final int[] cancelledBy;
    private long explored;
    // the point of the search: one more at every placement and every undoing
    private long point;
    // the open required moves that could not take effect at the point stuckAt
    private final List<Integer> stuck = new ArrayList<>();
    private long stuckAt = -1;
    // the deepest point where the search got stuck, kept raw and described only on failure
    private int bestDepth = -1;
    private int bestStuck;
    private S bestState;
    private int[] bestWindow;
    private int[] bestLast;
    private int bestPlacedRequired;
    private String bestReport;

    Search(String key, Model<S> model, List<Operation> ops, long budget, long origin) {
        this.key = key;
        this.model = model;
        this.budget = budget;
        this.origin = origin;
        this.steps = List.copyOf(model.moves(ops));
        this.cancelledBy = new int[steps.size()];
        Arrays.fill(cancelledBy, -1);
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).cancels() >= 0) {
                cancelledBy[steps.get(i).cancels()] = i;
            }
        }
    }

    long explored() {
        return explored;
    }

    /** The number of moves (operations with an effect or a constraint, and optional removals). */
    int size() {
        return steps.size();
    }

    String report() {
        return bestReport;
    }

    Outcome run() {
        int n = steps.size();
        // entries 1..e; 0 is the head, e+1 the tail
        List<long[]> ev = new ArrayList<>(); // {time, callFirst(0)/return(1), step}
        for (int i = 0; i < n; i++) {
            Move s = steps.get(i);
            ev.add(new long[] {s.call(), 0, i});
            if (!s.optional()) {
                ev.add(new long[] {s.ret(), 1, i});
            }
        }
        ev.sort(Comparator.<long[]>comparingLong(a -> a[0])
                .thenComparingLong(a -> a[1])
                .thenComparingLong(a -> a[2]));
        int e = ev.size();
        int tail = e + 1;
        int[] next = new int[e + 2];
        int[] prev = new int[e + 2];
        int[] stepOf = new int[e + 2];
        boolean[] isCall = new boolean[e + 2];
        int[] callEntry = new int[n];
        int[] retEntry = new int[n];
        Arrays.fill(retEntry, -1);
        for (int j = 0; j < e; j++) {
            long[] a = ev.get(j);
            int entry = j + 1;
            stepOf[entry] = (int) a[2];
            isCall[entry] = a[1] == 0;
            if (isCall[entry]) {
                callEntry[(int) a[2]] = entry;
            } else {
                retEntry[(int) a[2]] = entry;
            }
        }
        for (int j = 0; j <= e; j++) {
            next[j] = j + 1;
            prev[j + 1] = j;
        }

        S state = model.init();
        BitSet linearized = new BitSet(n);
        BitSet usedUp = new BitSet(n);
        Map<MemoKey, List<long[]>> memo = new HashMap<>();
        Deque<Object[]> stack = new ArrayDeque<>();
        int placedRequired = 0;
        int entry = next[0];
        while (true) {
            if (entry == tail) {
                return Outcome.LINEARIZABLE;
            }
            int s = stepOf[entry];
            if (isCall[entry] && steps.get(s).lazy() && !helps(s, state, next, stepOf, isCall)) {
                entry = next[entry];
            } else if (isCall[entry]) {
                S ns = model.step(state, s);
                if (ns != null) {
                    linearized.set(s);
                    markUsedUp(s, usedUp, true);
                    if (remember(memo, linearized, usedUp, ns)) {
                        if (++explored > budget) {
                            return Outcome.GAVE_UP;
                        }
                        stack.push(new Object[] {entry, state});
                        point++;
                        if (!steps.get(s).optional()) {
                            placedRequired++;
                        }
                        state = ns;
                        lift(entry, retEntry[s], next, prev);
                        entry = next[0];
                        continue;
                    }
                    linearized.clear(s);
                    markUsedUp(s, usedUp, false);
                }
                entry = next[entry];
            } else {
                if (stack.size() > bestDepth) {
                    bestDepth = stack.size();
                    keepDeepest(entry, s, state, stack, next, stepOf, isCall, placedRequired);
                }
                if (stack.isEmpty()) {
                    bestReport = describeFailure();
                    return Outcome.NOT_LINEARIZABLE;
                }
                Object[] top = stack.pop();
                point++;
                entry = (Integer) top[0];
                @SuppressWarnings("unchecked")
                S back = (S) top[1];
                state = back;
                int undone = stepOf[entry];
                if (!steps.get(undone).optional()) {
                    placedRequired--;
                }
                linearized.clear(undone);
                markUsedUp(undone, usedUp, false);
                unlift(entry, retEntry[undone], next, prev);
                entry = next[entry];
            }
        }
    }

    /**
     * Whether the lazy move {@code lazy} lets a required move open here take effect right after it
     * that cannot take effect without it. The open required moves that cannot take effect are found
     * once per point of the search.
     */
    private boolean helps(int lazy, S state, int[] next, int[] stepOf, boolean[] isCall) {
        if (stuckAt != point) {
            stuck.clear();
            for (int en = next[0]; en < next.length - 1 && isCall[en]; en = next[en]) {
                Move m = steps.get(stepOf[en]);
                if (!m.optional() && model.step(state, stepOf[en]) == null) {
                    stuck.add(stepOf[en]);
                }
            }
            stuckAt = point;
        }
        if (stuck.isEmpty()) {
            return false;
        }
        S with = model.step(state, lazy);
        if (with == null) {
            return false;
        }
        for (int m : stuck) {
            if (model.step(with, m) != null) {
                return true;
            }
        }
        return false;
    }

    private void markUsedUp(int s, BitSet usedUp, boolean on) {
        int cancelled = steps.get(s).cancels();
        if (cancelled >= 0) {
            usedUp.set(cancelled, on);
        }
    }

    /**
     * Records a configuration; false if it, or one that dominates it (same state, same steps placed
     * apart from used-up unknown grants, and a subset of them used up), was seen before.
     */
    private boolean remember(Map<MemoKey, List<long[]>> memo, BitSet linearized, BitSet usedUp, S state) {
        BitSet merged = (BitSet) linearized.clone();
        for (int u = usedUp.nextSetBit(0); u >= 0; u = usedUp.nextSetBit(u + 1)) {
            merged.clear(u);
            merged.clear(cancelledBy[u]);
        }
        long[] used = usedUp.toLongArray();
        List<long[]> seen = memo.computeIfAbsent(new MemoKey(merged.toLongArray(), state), k -> new ArrayList<>(1));
        for (long[] other : seen) {
            if (subset(other, used)) {
                return false;
            }
        }
        seen.add(used);
        return true;
    }

    private static boolean subset(long[] a, long[] b) {
        if (a.length > b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if ((a[i] & ~b[i]) != 0) {
                return false;
            }
        }
        return true;
    }

    private static void lift(int call, int ret, int[] next, int[] prev) {
        next[prev[call]] = next[call];
        prev[next[call]] = prev[call];
        if (ret >= 0) {
            next[prev[ret]] = next[ret];
            prev[next[ret]] = prev[ret];
        }
    }

    private static void unlift(int call, int ret, int[] next, int[] prev) {
        if (ret >= 0) {
            prev[next[ret]] = ret;
            next[prev[ret]] = ret;
        }
        prev[next[call]] = call;
        next[prev[call]] = call;
    }

    /** How many open operations a report lists at most (the latest ones). */
    private static final int WINDOW_SHOWN = 12;

    private void keepDeepest(
            int stuckEntry,
            int stuck,
            S state,
            Deque<Object[]> stack,
            int[] next,
            int[] stepOf,
            boolean[] isCall,
            int placedRequired) {
        List<Integer> window = new ArrayList<>();
        for (int en = next[0]; en != stuckEntry; en = next[en]) {
            if (isCall[en] && stepOf[en] != stuck && steps.get(stepOf[en]).label() == null) {
                window.add(stepOf[en]);
            }
        }
        bestStuck = stuck;
        bestState = state;
        bestWindow = window.stream().mapToInt(Integer::intValue).toArray();
        bestPlacedRequired = placedRequired;
        List<Integer> last = new ArrayList<>();
        for (Object[] f : stack) {
            if (last.size() == 3) {
                break;
            }
            last.add(0, stepOf[(Integer) f[0]]);
        }
        bestLast = last.stream().mapToInt(Integer::intValue).toArray();
    }

    private String describeFailure() {
        StringBuilder sb = new StringBuilder(key).append(": not linearizable: ");
        sb.append(steps.get(bestStuck).describe(origin)).append(" cannot take effect before it returned");
        List<String> window = new ArrayList<>();
        for (int i = Math.max(0, bestWindow.length - WINDOW_SHOWN); i < bestWindow.length; i++) {
            window.add(steps.get(bestWindow[i]).describe(origin));
        }
        sb.append("; also open there: ");
        if (bestWindow.length > WINDOW_SHOWN) {
            sb.append("(").append(bestWindow.length - WINDOW_SHOWN).append(" earlier unknown operations) ");
        }
        sb.append(window.isEmpty() ? "nothing" : String.join("; ", window));
        sb.append("; state there: ").append(model.describe(bestState));
        long required = steps.stream().filter(x -> !x.optional()).count();
        sb.append("; placed ")
                .append(bestPlacedRequired)
                .append(" of ")
                .append(required)
                .append(" operations");
        List<String> last = new ArrayList<>();
        for (int i : bestLast) {
            last.add(steps.get(i).describe(origin));
        }
        if (!last.isEmpty()) {
            sb.append(", the last: ").append(String.join("; ", last));
        }
        return sb.append(model.notes()).toString();
    }
}
