package io.holdfast.verify.check;

import static io.holdfast.verify.history.FaultAction.ADD_MEMBER;
import static io.holdfast.verify.history.FaultAction.CUT;
import static io.holdfast.verify.history.FaultAction.DELAY;
import static io.holdfast.verify.history.FaultAction.HEAL;
import static io.holdfast.verify.history.FaultAction.ISOLATE;
import static io.holdfast.verify.history.FaultAction.KILL;
import static io.holdfast.verify.history.FaultAction.ONE_WAY;
import static io.holdfast.verify.history.FaultAction.PARTITION;
import static io.holdfast.verify.history.FaultAction.PAUSE;
import static io.holdfast.verify.history.FaultAction.PROMOTE;
import static io.holdfast.verify.history.FaultAction.REJOIN_EMPTY;
import static io.holdfast.verify.history.FaultAction.REMOVE_MEMBER;
import static io.holdfast.verify.history.FaultAction.RESUME;
import static io.holdfast.verify.history.FaultAction.START;
import static io.holdfast.verify.history.FaultAction.STOP;
import static io.holdfast.verify.history.FaultAction.TRANSFER_LEADER;

import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How long the service took to change something after each fault and after each heal: from the
 * {@link Fault} record to the completion of the first successful write of the workload asked for
 * after it (an {@code ok} acquire, release, register write or key transaction of any client, invoked at or after the
 * record, final phase left out), read from a run's records only. A write asked for before the fault
 * does not count, even if it completed after: the fault is recorded just before it is done, and a
 * request the old leader answered in between says nothing of the service after the fault. The {@code availability} checker bounds some of these gaps; the run's report prints
 * them all, per kind.
 *
 * <p>A gap is <em>clean</em> when nothing else can explain it: for a fault, no node was down or
 * paused, the network was whole, the service had written since the last thing done to the nodes
 * (so it had settled), and no membership change came within {@link #QUIET_MILLIS} before it; for a
 * heal (or a restart, or a resume), nothing on the nodes is in force after it. In both cases no
 * other fault on the nodes may come before the next write. A leader killed while another node is
 * down, or a restart that still leaves one down, is reported but is not clean.
 */
public final class Unavailability {
    /** Faults that end one. */
    static final Set<FaultAction> RECOVERIES = EnumSet.of(START, RESUME, HEAL);

    /** Faults that hurt the service (a client paused or cut off does not, to the other clients). */
    static final Set<FaultAction> INJECTED =
            EnumSet.of(KILL, STOP, PAUSE, ISOLATE, PARTITION, ONE_WAY, CUT, DELAY, TRANSFER_LEADER);

    /** Records that change the members: a fault just before one of them is not clean. */
    static final Set<FaultAction> MEMBERSHIP = EnumSet.of(ADD_MEMBER, PROMOTE, REMOVE_MEMBER, REJOIN_EMPTY);

    /** How long before a fault no membership change may have come for its gap to be clean. */
    static final long QUIET_MILLIS = 5_000;

    private Unavailability() {}

    /**
     * The gap after one fault or heal.
     *
     * @param fault the record it is measured from
     * @param kind "kill leader", "kill follower", "partition", "heal network", "restart", …
     * @param recovery whether the record ends faults (a heal, a restart, a resume)
     * @param millis milliseconds to the next write, or -1 if no write came before the run ended
     * @param wentOnMillis milliseconds from the record to the workload's last record (how long the
     *     run went on after it)
     * @param clean whether nothing else can explain the gap (see the class)
     */
    public record Gap(Fault fault, String kind, boolean recovery, long millis, long wentOnMillis, boolean clean) {
        /** Whether a write followed. */
        public boolean written() {
            return millis >= 0;
        }
    }

    /** Every gap of a run in order of time. */
    public static List<Gap> of(List<Record> records) {
        Map<String, Long> invoked = new java.util.HashMap<>();
        List<long[]> asked = new ArrayList<>();
        long end = Long.MIN_VALUE;
        List<Fault> faults = new ArrayList<>();
        for (Record r : records) {
            if (r instanceof Op op && !"final".equals(op.phase())) {
                end = Math.max(end, op.time());
                if (op.type() == Op.Type.INVOKE) {
                    invoked.put(op.id(), op.time());
                } else if (op.type() == Op.Type.OK && isWrite(op.f()) && invoked.containsKey(op.id())) {
                    asked.add(new long[] {invoked.get(op.id()), op.time()});
                }
            } else if (r instanceof Fault f
                    && (RECOVERIES.contains(f.action())
                            || INJECTED.contains(f.action())
                            || MEMBERSHIP.contains(f.action()))) {
                faults.add(f);
            }
        }
        asked.sort(java.util.Comparator.comparingLong(w -> w[0]));
        Writes writes = new Writes(asked);
        List<Gap> gaps = new ArrayList<>();
        Set<String> down = new HashSet<>();
        Set<String> paused = new HashSet<>();
        boolean networkFaulty = false;
        long lastOnNodes = Long.MIN_VALUE;
        long lastMembership = Long.MIN_VALUE;
        for (int i = 0; i < faults.size(); i++) {
            Fault f = faults.get(i);
            boolean onNodes = onNodes(f);
            boolean settled = lastOnNodes == Long.MIN_VALUE || writes.firstDoneAfter(lastOnNodes + 1) < f.time();
            boolean quietBefore = down.isEmpty()
                    && paused.isEmpty()
                    && !networkFaulty
                    && settled
                    && (lastMembership == Long.MIN_VALUE || f.time() - lastMembership > QUIET_MILLIS * 1_000_000);
            switch (f.action()) {
                case KILL, STOP -> down.add(f.target());
                case START -> down.remove(f.target());
                case PAUSE -> {
                    if (onNodes) {
                        paused.add(f.target());
                    }
                }
                case RESUME -> paused.remove(f.target());
                case ISOLATE, PARTITION, ONE_WAY, DELAY -> networkFaulty = true;
                case HEAL -> {
                    networkFaulty = false;
                    if ("all".equals(f.target())) {
                        down.clear();
                        paused.clear();
                    }
                }
                default -> {
                    // cut, transfer-leader and membership changes leave nothing in force
                }
            }
            boolean recovery = RECOVERIES.contains(f.action());
            if (onNodes) {
                lastOnNodes = f.time();
            }
            if (MEMBERSHIP.contains(f.action())) {
                lastMembership = f.time();
                continue;
            }
            long nextWrite = writes.firstDoneAfter(f.time());
            boolean undisturbed = true;
            for (int j = i + 1; j < faults.size() && faults.get(j).time() < nextWrite; j++) {
                Fault later = faults.get(j);
                if (onNodes(later) && !RECOVERIES.contains(later.action())) {
                    undisturbed = false;
                }
            }
            boolean clean =
                    undisturbed && (recovery ? down.isEmpty() && paused.isEmpty() && !networkFaulty : quietBefore);
            long millis = nextWrite == Long.MAX_VALUE ? -1 : (nextWrite - f.time()) / 1_000_000;
            long wentOn = end == Long.MIN_VALUE ? 0 : Math.max(0, (end - f.time()) / 1_000_000);
            gaps.add(new Gap(f, kind(f), recovery, millis, wentOn, clean));
        }
        return gaps;
    }

    /**
     * The report's lines for a run: per kind of fault, then per kind of heal, the gaps' p50 and max
     * and how many there were (and how many of them clean, when not all were), and every record
     * after which no write came.
     */
    public static List<String> report(List<Record> records) {
        return report(of(records), Times.origin(records));
    }

    static List<String> report(List<Gap> gaps, long origin) {
        Map<String, List<Gap>> faults = new LinkedHashMap<>();
        Map<String, List<Gap>> heals = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        List<String> none = new ArrayList<>();
        for (Gap g : gaps) {
            if (g.written()) {
                (g.recovery() ? heals : faults)
                        .computeIfAbsent(g.kind(), k -> new ArrayList<>())
                        .add(g);
            } else {
                none.add(g.kind() + " " + g.fault().target() + " at "
                        + Times.at(g.fault().time(), origin) + " (the run went on " + g.wentOnMillis() + " ms)");
            }
        }
        if (!faults.isEmpty()) {
            lines.add("fault to next write: " + perKind(faults));
        }
        if (!heals.isEmpty()) {
            lines.add("heal to next write: " + perKind(heals));
        }
        if (!none.isEmpty()) {
            lines.add("no write after the fault: " + String.join("; ", none));
        }
        return lines;
    }

    private static String perKind(Map<String, List<Gap>> byKind) {
        List<String> parts = new ArrayList<>();
        byKind.forEach((kind, gaps) -> {
            List<Long> ms = new ArrayList<>();
            long clean = 0;
            for (Gap g : gaps) {
                ms.add(g.millis());
                clean += g.clean() ? 1 : 0;
            }
            Collections.sort(ms);
            parts.add(kind + " p50 " + ms.get(ms.size() / 2) + " ms, max " + ms.get(ms.size() - 1) + " ms (" + ms.size()
                    + (clean == ms.size() ? "" : ", " + clean + " clean") + ")");
        });
        return String.join("; ", parts);
    }

    /** The successful writes of a run: when each was asked for and when it completed. */
    private static final class Writes {
        private final long[] invoked;
        /** {@code done[i]}: the earliest completion of the writes {@code i} and later in {@link #invoked}'s order. */
        private final long[] done;

        Writes(List<long[]> byInvocation) {
            invoked = new long[byInvocation.size()];
            done = new long[byInvocation.size()];
            long min = Long.MAX_VALUE;
            for (int i = byInvocation.size() - 1; i >= 0; i--) {
                invoked[i] = byInvocation.get(i)[0];
                min = Math.min(min, byInvocation.get(i)[1]);
                done[i] = min;
            }
        }

        /** The first completion of a write asked for at or after {@code time}, or Long.MAX_VALUE. */
        long firstDoneAfter(long time) {
            int at = java.util.Arrays.binarySearch(invoked, time);
            if (at >= 0) {
                while (at > 0 && invoked[at - 1] == time) {
                    at--;
                }
            } else {
                at = -at - 1;
            }
            return at < done.length ? done[at] : Long.MAX_VALUE;
        }
    }

    private static boolean isWrite(Op.Fn f) {
        return f == Op.Fn.ACQUIRE || f == Op.Fn.RELEASE || f == Op.Fn.REG_CAS || f == Op.Fn.KEY_TXN;
    }

    /** Whether a fault record is about the nodes (or the network), not one client alone. */
    private static boolean onNodes(Fault f) {
        return !(f.action() == PAUSE || f.action() == RESUME || f.action() == CUT)
                || f.target().startsWith("n");
    }

    private static String kind(Fault f) {
        String a = f.action().text();
        String detail = f.detail() == null ? "" : f.detail();
        boolean leader = detail.startsWith("leader") || detail.contains("(was leader)");
        return switch (f.action()) {
            case KILL, STOP, PAUSE, ISOLATE -> onNodes(f) ? a + (leader ? " leader" : " follower") : a + " client";
            case CUT -> onNodes(f) ? "cut node" : "cut client";
            case HEAL -> "heal " + f.target();
            case START -> "restart";
            case RESUME -> onNodes(f) ? "resume node" : "resume client";
            default -> a;
        };
    }
}
