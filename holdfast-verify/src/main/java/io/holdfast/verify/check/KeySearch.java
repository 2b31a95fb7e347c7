// Ceiling 580 lines, one idea: one algorithm (the linearizability search for one key, with its memo), kept whole
// so that it can be read against the papers it follows.
package io.holdfast.verify.check;

import io.holdfast.verify.history.Op;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The linearizability search for one key (Wing and Gong, with Lowe's just-in-time linearization and
 * Porcupine's memo of (linearized set, state)).
 *
 * <p>Each operation becomes a step with a call time and, if it must take effect, a return time:
 *
 * <ul>
 *   <li>ACQUIRE OK: a grant, legal when the mode fits the holders (a lock or write lock needs no
 *       holder, a read lock no writer, a semaphore free permits up to its limit) and the token is
 *       larger than every token granted on the key so far.
 *   <li>ACQUIRE tryOnly FAIL TIMEOUT: legal only where the acquire could not be granted. A free lock
 *       refuses a try while someone waits (FIFO), so a try that overlaps a blocking acquire of
 *       another process on the key is not constrained. A blocking acquire FAIL TIMEOUT, and a FAIL
 *       for any other reason, has no effect.
 *   <li>ACQUIRE UNKNOWN or without completion: a grant that may happen at any point after its invoke,
 *       or never (its token is unknown, so no token rule).
 *   <li>RELEASE OK: removes the hold of the acquire OK with the same process and token; legal only
 *       while that hold exists. A release FAIL or UNKNOWN has no effect of its own.
 *   <li>Every hold not ended by a release OK (lost, expired, released with an unknown outcome, the
 *       process killed) may be removed at any point after its acquire's invoke, or never.
 *   <li>REG_GET OK: legal when version and value are the register's; REG_CAS OK: legal when the
 *       register is at the expected version and the new version is that plus one (as the service's
 *       registers count: 0 when empty, one more per write); REG_CAS FAIL CONFLICT: legal when the
 *       version differs (the history does not record a fence, so a CAS fenced by a lease that is no
 *       longer current is not modelled); REG_CAS UNKNOWN: applied at any point where it matches, or
 *       never.
 * </ul>
 *
 * <p>Optional steps have no return event, so a search succeeds once every required step is placed.
 * To keep unknown acquires from multiplying the memo, an unknown grant whose hold was removed again
 * is remembered as "used up": a configuration with more steps still unused dominates the same
 * configuration with some used up, and a dominated configuration is not explored again.
 */
final class KeySearch {
    enum Outcome {
        LINEARIZABLE,
        NOT_LINEARIZABLE,
        GAVE_UP
    }

    private enum Kind {
        GRANT,
        GRANT_UNKNOWN,
        TRY_FAIL,
        RELEASE,
        DROP,
        GET,
        CAS_OK,
        CAS_FAIL,
        CAS_UNKNOWN
    }

    private static final class Step {
        final Kind kind;
        final Operation source;
        final long call;
        final boolean optional;
        int hold = -1;
        int drop = -1;

        Step(Kind kind, Operation source, long call, boolean optional) {
            this.kind = kind;
            this.source = source;
            this.call = call;
            this.optional = optional;
        }

        Op in() {
            return source.invoke();
        }

        long ret() {
            return optional ? Long.MAX_VALUE : source.end();
        }
    }

    /** The model's state: holders (grant step indexes, sorted), highest token, register. */
    private static final class State {
        final int[] holders;
        final long maxToken;
        final long version;
        final long value;
        final int hash;

        State(int[] holders, long maxToken, long version, long value) {
            this.holders = holders;
            this.maxToken = maxToken;
            this.version = version;
            this.value = value;
            this.hash = Objects.hash(Arrays.hashCode(holders), maxToken, version, value);
        }

        boolean holds(int step) {
            return Arrays.binarySearch(holders, step) >= 0;
        }

        State with(int step, long token) {
            int[] h = Arrays.copyOf(holders, holders.length + 1);
            h[holders.length] = step;
            Arrays.sort(h);
            return new State(h, Math.max(maxToken, token), version, value);
        }

        State without(int step) {
            int[] h = new int[holders.length - 1];
            int j = 0;
            for (int x : holders) {
                if (x != step) {
                    h[j++] = x;
                }
            }
            return new State(h, maxToken, version, value);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof State s
                    && s.hash == hash
                    && s.maxToken == maxToken
                    && s.version == version
                    && s.value == value
                    && Arrays.equals(s.holders, holders);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private record MemoKey(long[] bits, State state) {
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
    private final long budget;
    private final long origin;
    private final List<Step> steps = new ArrayList<>();
    private long explored;
    private int unmatchedReleases;
    // the deepest point where the search got stuck, kept raw and described only on failure
    private int bestDepth = -1;
    private int bestStuck;
    private State bestState;
    private int[] bestWindow;
    private int[] bestLast;
    private int bestPlacedRequired;
    private String bestReport;

    KeySearch(String key, List<Operation> ops, long budget, long origin) {
        this.key = key;
        this.budget = budget;
        this.origin = origin;
        build(ops);
    }

    long explored() {
        return explored;
    }

    /** The number of steps (operations with an effect or a constraint, and optional removals). */
    int size() {
        return steps.size();
    }

    String report() {
        return bestReport;
    }

    private void build(List<Operation> ops) {
        Map<String, Integer> grantByToken = new HashMap<>();
        List<Integer> grants = new ArrayList<>();
        for (Operation o : ops) {
            Op in = o.invoke();
            switch (in.f()) {
                case ACQUIRE -> {
                    if (o.ok()) {
                        int i = add(new Step(Kind.GRANT, o, in.time(), false));
                        grants.add(i);
                        grantByToken.put(in.process() + "|" + o.completion().token(), i);
                    } else if (o.completion() == null || o.outcome() == Op.Type.UNKNOWN) {
                        grants.add(add(new Step(Kind.GRANT_UNKNOWN, o, in.time(), true)));
                    } else if (in.tryOnly() && "TIMEOUT".equals(o.error()) && !overlapsWaiter(o, ops)) {
                        add(new Step(Kind.TRY_FAIL, o, in.time(), false));
                    }
                }
                case REG_GET -> {
                    if (o.ok()) {
                        add(new Step(Kind.GET, o, in.time(), false));
                    }
                }
                case REG_CAS -> {
                    if (o.ok()) {
                        add(new Step(Kind.CAS_OK, o, in.time(), false));
                    } else if (o.completion() == null || o.outcome() == Op.Type.UNKNOWN) {
                        add(new Step(Kind.CAS_UNKNOWN, o, in.time(), true));
                    } else if ("CONFLICT".equals(o.error())) {
                        add(new Step(Kind.CAS_FAIL, o, in.time(), false));
                    }
                }
                default -> {}
            }
        }
        BitSet released = new BitSet();
        for (Operation o : ops) {
            if (o.invoke().f() != Op.Fn.RELEASE || !o.ok()) {
                continue;
            }
            Integer g = grantByToken.get(o.invoke().process() + "|" + o.invoke().token());
            if (g == null) {
                unmatchedReleases++;
                continue;
            }
            // a second release OK of the same lease needs the hold again, which a correct service
            // never grants twice: it cannot be placed
            Step s = new Step(Kind.RELEASE, o, o.invoke().time(), false);
            s.hold = g;
            add(s);
            released.set(g);
        }
        for (int g : grants) {
            steps.get(g).hold = g;
            if (!released.get(g)) {
                Step d = new Step(Kind.DROP, steps.get(g).source, steps.get(g).call, true);
                d.hold = g;
                steps.get(g).drop = add(d);
            }
        }
    }

    private int add(Step s) {
        steps.add(s);
        return steps.size() - 1;
    }

    /** Whether a blocking acquire of another process on the key was pending while this try ran. */
    private static boolean overlapsWaiter(Operation t, List<Operation> ops) {
        for (Operation o : ops) {
            Op in = o.invoke();
            if (in.f() == Op.Fn.ACQUIRE
                    && !in.tryOnly()
                    && !in.process().equals(t.invoke().process())
                    && in.time() < t.end()
                    && o.end() > t.invoke().time()) {
                return true;
            }
        }
        return false;
    }

    private boolean grantable(State s, Step step) {
        Op in = step.in();
        Op.Kind mode = in.kind();
        if (s.holders.length == 0) {
            return mode != Op.Kind.SEMAPHORE || in.permits() <= in.limit();
        }
        if (mode == Op.Kind.LOCK || mode == Op.Kind.WRITE || mode == Op.Kind.REGISTER) {
            return false;
        }
        int used = 0;
        for (int h : s.holders) {
            Op held = steps.get(h).in();
            if (held.kind() != mode) {
                return false;
            }
            used += held.permits();
        }
        return mode == Op.Kind.READ || used + in.permits() <= in.limit();
    }

    /** The state after {@code step}, or null where the step cannot take effect. */
    private State apply(State s, int index) {
        Step step = steps.get(index);
        Op c = step.source.completion();
        Op in = step.in();
        switch (step.kind) {
            case GRANT:
                return grantable(s, step) && c.token() > s.maxToken ? s.with(index, c.token()) : null;
            case GRANT_UNKNOWN:
                return grantable(s, step) ? s.with(index, Long.MIN_VALUE) : null;
            case TRY_FAIL:
                return grantable(s, step) ? null : s;
            case RELEASE:
            case DROP:
                return s.holds(step.hold) ? s.without(step.hold) : null;
            case GET:
                return s.version == c.version() && s.value == c.value() ? s : null;
            case CAS_OK:
                return s.version == in.version() && c.newVersion() == in.version() + 1
                        ? new State(s.holders, s.maxToken, c.newVersion(), in.value())
                        : null;
            case CAS_FAIL:
                return s.version != in.version() ? s : null;
            case CAS_UNKNOWN:
                return s.version == in.version()
                        ? new State(s.holders, s.maxToken, in.version() + 1, in.value())
                        : null;
            default:
                throw new IllegalStateException(step.kind.toString());
        }
    }

    Outcome run() {
        int n = steps.size();
        // entries 1..e; 0 is the head, e+1 the tail
        List<long[]> ev = new ArrayList<>(); // {time, callFirst(0)/return(1), step}
        for (int i = 0; i < n; i++) {
            Step s = steps.get(i);
            ev.add(new long[] {s.call, 0, i});
            if (!s.optional) {
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

        State state = new State(new int[0], Long.MIN_VALUE, 0, 0);
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
            if (isCall[entry]) {
                State ns = apply(state, s);
                if (ns != null) {
                    linearized.set(s);
                    markUsedUp(s, usedUp, true);
                    if (remember(memo, linearized, usedUp, ns)) {
                        if (++explored > budget) {
                            return Outcome.GAVE_UP;
                        }
                        stack.push(new Object[] {entry, state});
                        if (!steps.get(s).optional) {
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
                entry = (Integer) top[0];
                state = (State) top[1];
                int undone = stepOf[entry];
                if (!steps.get(undone).optional) {
                    placedRequired--;
                }
                linearized.clear(undone);
                markUsedUp(undone, usedUp, false);
                unlift(entry, retEntry[undone], next, prev);
                entry = next[entry];
            }
        }
    }

    private void markUsedUp(int s, BitSet usedUp, boolean on) {
        Step step = steps.get(s);
        if (step.kind == Kind.DROP && steps.get(step.hold).kind == Kind.GRANT_UNKNOWN) {
            usedUp.set(step.hold, on);
        }
    }

    /**
     * Records a configuration; false if it, or one that dominates it (same state, same steps placed
     * apart from used-up unknown grants, and a subset of them used up), was seen before.
     */
    private boolean remember(Map<MemoKey, List<long[]>> memo, BitSet linearized, BitSet usedUp, State state) {
        BitSet merged = (BitSet) linearized.clone();
        for (int u = usedUp.nextSetBit(0); u >= 0; u = usedUp.nextSetBit(u + 1)) {
            merged.clear(u);
            merged.clear(steps.get(u).drop);
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
            State state,
            Deque<Object[]> stack,
            int[] next,
            int[] stepOf,
            boolean[] isCall,
            int placedRequired) {
        List<Integer> window = new ArrayList<>();
        for (int en = next[0]; en != stuckEntry; en = next[en]) {
            if (isCall[en] && stepOf[en] != stuck && steps.get(stepOf[en]).kind != Kind.DROP) {
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
        sb.append(steps.get(bestStuck).source.describe(origin)).append(" cannot take effect before it returned");
        List<String> window = new ArrayList<>();
        for (int i = Math.max(0, bestWindow.length - WINDOW_SHOWN); i < bestWindow.length; i++) {
            window.add(steps.get(bestWindow[i]).source.describe(origin));
        }
        sb.append("; also open there: ");
        if (bestWindow.length > WINDOW_SHOWN) {
            sb.append("(").append(bestWindow.length - WINDOW_SHOWN).append(" earlier unknown operations) ");
        }
        sb.append(window.isEmpty() ? "nothing" : String.join("; ", window));
        sb.append("; state there: ").append(describe(bestState));
        long required = steps.stream().filter(x -> !x.optional).count();
        sb.append("; placed ")
                .append(bestPlacedRequired)
                .append(" of ")
                .append(required)
                .append(" operations");
        List<String> last = new ArrayList<>();
        for (int i : bestLast) {
            Step p = steps.get(i);
            last.add(p.kind == Kind.DROP ? "hold of " + p.in().id() + " removed" : p.source.describe(origin));
        }
        if (!last.isEmpty()) {
            sb.append(", the last: ").append(String.join("; ", last));
        }
        if (unmatchedReleases > 0) {
            sb.append(" (").append(unmatchedReleases).append(" release OK without a matching acquire OK ignored)");
        }
        return sb.toString();
    }

    private String describe(State s) {
        StringBuilder sb = new StringBuilder();
        if (s.holders.length == 0) {
            sb.append("no holder");
        } else {
            List<String> hs = new ArrayList<>();
            for (int h : s.holders) {
                Step g = steps.get(h);
                hs.add(g.in().id()
                        + (g.kind == Kind.GRANT
                                ? " (token " + g.source.completion().token() + ")"
                                : " (unknown acquire)"));
            }
            sb.append("held by ").append(String.join(", ", hs));
        }
        if (s.maxToken != Long.MIN_VALUE) {
            sb.append(", highest token ").append(s.maxToken);
        }
        if (s.version != 0 || s.value != 0) {
            sb.append(", register version ").append(s.version).append(" value ").append(s.value);
        }
        return sb.toString();
    }
}
