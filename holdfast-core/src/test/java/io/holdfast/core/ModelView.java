package io.holdfast.core;

import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything observable about a lock table at one moment, in one plain form that both {@link
 * LockTable} (read through its package-private state) and {@link ModelTable} produce, so that the
 * two can be compared with {@code equals}. Resources are sorted by name, holders in token order,
 * waiters in queue order, sessions by id; remembered replies are {@linkplain #norm normalized}.
 *
 * @param resources every resource the table keeps, including idle ones that wait for their
 *     lock-delay timer; {@code blockedUntil} is raw (see {@link #effective()})
 */
record ModelView(long now, long lastToken, List<VRes> resources, List<VSession> sessions, List<VRegister> registers) {
    ModelView {
        resources = List.copyOf(resources);
        sessions = List.copyOf(sessions);
        registers = List.copyOf(registers);
    }

    record VHold(
            String session,
            long owner,
            long token,
            LockMode mode,
            int permits,
            long grantedAt,
            long leaseMillis,
            long leaseDeadline) {}

    record VWait(
            String session,
            long owner,
            long seq,
            LockMode mode,
            int permits,
            long enqueuedAt,
            long deadline,
            long leaseMillis) {}

    record VRes(
            String name, boolean semaphore, int maxPermits, long blockedUntil, List<VHold> holders, List<VWait> queue) {
        VRes {
            holders = List.copyOf(holders);
            queue = List.copyOf(queue);
        }

        boolean idle() {
            return holders.isEmpty() && queue.isEmpty();
        }

        /** Whether a request of this mode and size fits beside the current holders. */
        boolean fits(LockMode mode, int permits) {
            return switch (mode) {
                case EXCLUSIVE -> holders.isEmpty();
                case SHARED -> holders.stream().noneMatch(h -> h.mode() == LockMode.EXCLUSIVE);
                case PERMITS -> holders.stream().mapToInt(VHold::permits).sum() + permits <= maxPermits;
            };
        }
    }

    record VSession(
            String id,
            String clientName,
            long ttlMillis,
            long lockDelayMillis,
            long openedAt,
            long ackedBelow,
            Map<Long, String> replies) {
        VSession {
            replies = Collections.unmodifiableMap(new TreeMap<>(replies));
        }
    }

    record VRegister(String key, long version, String value, String owner) {}

    /** The state of a real table, read through package-private access. */
    static ModelView of(LockTable table) {
        List<VRes> resources = new ArrayList<>();
        for (Resource r : new TreeMap<>(table.parts().queues.map()).values()) {
            List<VHold> holders = new ArrayList<>();
            for (Hold h = r.holdersHead; h != null; h = h.rNext) {
                holders.add(new VHold(
                        h.session.id(),
                        h.owner,
                        h.token,
                        h.mode,
                        h.permits,
                        h.grantedAt,
                        h.leaseMillis,
                        h.leaseDeadline));
            }
            List<VWait> queue = new ArrayList<>();
            for (Waiter w = r.queueHead; w != null; w = w.qNext) {
                queue.add(new VWait(
                        w.session.id(), w.owner, w.seq, w.mode, w.permits, w.enqueuedAt, w.deadline, w.leaseMillis));
            }
            resources.add(new VRes(r.name, r.semaphore, r.maxPermits, r.blockedUntil, holders, queue));
        }
        List<VSession> sessions = new ArrayList<>();
        for (Session s : sortedById(table.parts().sessions.all())) {
            Map<Long, String> replies = new TreeMap<>();
            s.remembered().forEach((seq, reply) -> replies.put(seq, norm(reply)));
            sessions.add(new VSession(
                    s.id(), s.clientName, s.ttlMillis, s.lockDelayMillis, s.openedAt, s.ackedBelow, replies));
        }
        List<VRegister> registers = new ArrayList<>();
        new TreeMap<>(table.parts().registers.map())
                .forEach((key, reg) -> registers.add(
                        new VRegister(key, reg.version, HexFormat.of().formatHex(reg.value), reg.owner)));
        return new ModelView(table.now(), table.lastToken(), resources, sessions, registers);
    }

    /**
     * This view with every lock-delay that has passed shown as 0. Whether a passed lock-delay is
     * still written down is bookkeeping (its timer may not have run yet); what it does is checked by
     * behaviour, so the model comparison looks at this form.
     */
    ModelView effective() {
        List<VRes> out = new ArrayList<>();
        for (VRes r : resources) {
            long blocked = r.blockedUntil() > now ? r.blockedUntil() : 0;
            out.add(new VRes(r.name(), r.semaphore(), r.maxPermits(), blocked, r.holders(), r.queue()));
        }
        return new ModelView(now, lastToken, out, sessions, registers);
    }

    VRes resource(String name) {
        for (VRes r : resources) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        return null;
    }

    VSession session(String id) {
        for (VSession s : sessions) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        return null;
    }

    long registerVersion(String key) {
        for (VRegister r : registers) {
            if (r.key().equals(key)) {
                return r.version();
            }
        }
        return 0;
    }

    VRegister register(String key) {
        for (VRegister r : registers) {
            if (r.key().equals(key)) {
                return r;
            }
        }
        return null;
    }

    /** The holder with this token, on any resource, or null. */
    VHold holder(long token) {
        for (VRes r : resources) {
            for (VHold h : r.holders()) {
                if (h.token() == token) {
                    return h;
                }
            }
        }
        return null;
    }

    /** The name of the resource that has a holder with this token, or null. */
    String holderName(long token) {
        for (VRes r : resources) {
            for (VHold h : r.holders()) {
                if (h.token() == token) {
                    return r.name();
                }
            }
        }
        return null;
    }

    /** The resource on which this session's acquire {@code seq} waits, or null. */
    VRes waitingOn(String session, long seq) {
        for (VRes r : resources) {
            for (VWait w : r.queue()) {
                if (w.session().equals(session) && w.seq() == seq) {
                    return r;
                }
            }
        }
        return null;
    }

    VWait waiter(String session, long seq) {
        VRes r = waitingOn(session, seq);
        return r == null
                ? null
                : r.queue().stream()
                        .filter(w -> w.session().equals(session) && w.seq() == seq)
                        .findFirst()
                        .orElseThrow();
    }

    /** What {@link LockTable#list} must answer for this state: every resource, timed by {@code now}. */
    List<LockInfo> expectedList() {
        List<LockInfo> out = new ArrayList<>();
        for (VRes r : resources) {
            List<HolderInfo> holders = new ArrayList<>();
            for (VHold h : r.holders()) {
                holders.add(new HolderInfo(
                        h.session(),
                        Objects.requireNonNull(session(h.session()), "holder without session")
                                .clientName(),
                        h.mode(),
                        h.permits(),
                        h.token(),
                        1,
                        Duration.ofMillis(Math.max(0, now - h.grantedAt())),
                        h.leaseMillis() == 0 ? null : Duration.ofMillis(Math.max(0, h.leaseDeadline() - now))));
            }
            List<WaiterInfo> waiters = new ArrayList<>();
            for (VWait w : r.queue()) {
                waiters.add(new WaiterInfo(
                        w.session(),
                        Objects.requireNonNull(session(w.session()), "waiter without session")
                                .clientName(),
                        w.mode(),
                        w.permits(),
                        Duration.ofMillis(Math.max(0, now - w.enqueuedAt())),
                        Duration.ofMillis(Math.max(0, w.deadline() - now))));
            }
            out.add(new LockInfo(r.name(), r.semaphore(), r.maxPermits(), holders, waiters));
        }
        return out;
    }

    /** The differences from {@code other}, one per line, for failure messages. */
    String diff(ModelView other) {
        StringBuilder out = new StringBuilder();
        if (now != other.now) {
            out.append("  now ").append(now).append(" vs ").append(other.now).append('\n');
        }
        if (lastToken != other.lastToken) {
            out.append("  lastToken ")
                    .append(lastToken)
                    .append(" vs ")
                    .append(other.lastToken)
                    .append('\n');
        }
        diffLists("resource", resources, other.resources, out);
        diffLists("session", sessions, other.sessions, out);
        diffLists("register", registers, other.registers, out);
        return out.toString();
    }

    private static <T> void diffLists(String what, List<T> mine, List<T> theirs, StringBuilder out) {
        for (T t : mine) {
            if (!theirs.contains(t)) {
                out.append("  ").append(what).append(" only here:  ").append(t).append('\n');
            }
        }
        for (T t : theirs) {
            if (!mine.contains(t)) {
                out.append("  ").append(what).append(" only there: ").append(t).append('\n');
            }
        }
    }

    /**
     * A reply without its message: type, error code, token, hold count, value, version. The cycle
     * of a deadlock is left out (which cycle a search finds first is not part of the contract).
     */
    static String norm(Reply reply) {
        if (reply instanceof Reply.Ok ok) {
            return "Ok(" + ok.value() + ")";
        }
        if (reply instanceof Reply.Granted g) {
            return "Granted(token=" + g.token() + ")";
        }
        if (reply instanceof Reply.Queued) {
            return "Queued";
        }
        if (reply instanceof Reply.Busy) {
            return "Busy";
        }
        if (reply instanceof Reply.Written w) {
            return "Written(" + w.version() + ")";
        }
        if (reply instanceof Reply.Counted c) {
            return "Counted(" + c.value() + ", " + c.version() + ")";
        }
        if (reply instanceof Reply.Failed f) {
            return "Failed(" + f.code() + (f.currentVersion() == -1 ? "" : ", version=" + f.currentVersion()) + ")";
        }
        return String.valueOf(reply);
    }

    private static List<Session> sortedById(List<Session> sessions) {
        List<Session> sorted = new ArrayList<>(sessions);
        sorted.sort(java.util.Comparator.comparing(Session::id));
        return sorted;
    }
}
