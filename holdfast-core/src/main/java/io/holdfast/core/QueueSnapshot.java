package io.holdfast.core;

import io.holdfast.LockMode;
import io.holdfast.Names;
import io.holdfast.model.Reply;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The part of the snapshot format ({@link SnapshotCodec}, which has the layout) that holds {@link
 * Queues}: every lock and semaphore with its holders in token order and its waiters in queue
 * order, and, from format 4, the multi-locks whose one wait stands in several queues. Reading
 * checks every reference (sessions, permits, tokens, the members of each multi-lock) and links the
 * restored holds and waits back into the queues, their sessions, the timers and the wait-for graph.
 */
final class QueueSnapshot {
    private QueueSnapshot() {}

    /** Whether the table holds a multi-lock's wait or remembers a multi-lock's grant (format 4). */
    static boolean usesMultiLocks(TableParts table) {
        for (Session s : table.sessions.all()) {
            for (Waiter w = s.waitsHead; w != null; w = w.sNext) {
                if (w.group != null) {
                    return true;
                }
            }
        }
        return SnapshotCodec.remembers(table, r -> r instanceof Reply.GrantedAll);
    }

    /** Writes every lock and semaphore, sorted by name; a waiter's multi-lock count from format 4. */
    static void write(TableParts table, DataOutputStream out, int version) throws IOException {
        List<Resource> resources = new ArrayList<>(table.queues.map().values());
        resources.sort(Comparator.comparing(r -> r.name));
        out.writeInt(resources.size());
        for (Resource r : resources) {
            out.writeUTF(r.name);
            out.writeBoolean(r.semaphore);
            out.writeInt(r.maxPermits);
            out.writeLong(r.blockedUntil);
            out.writeInt(r.holderCount);
            for (Hold h = r.holdersHead; h != null; h = h.rNext) {
                out.writeUTF(h.session.id());
                out.writeLong(h.owner);
                out.writeLong(h.token);
                out.writeByte(h.mode.ordinal());
                out.writeInt(h.permits);
                out.writeLong(h.grantedAt);
                out.writeLong(h.leaseMillis);
                out.writeLong(h.leaseDeadline);
                out.writeInt(1); // the hold count of builds that had reentrant grants
            }
            int waiters = 0;
            for (Waiter w = r.queueHead; w != null; w = w.qNext) {
                waiters++;
            }
            out.writeInt(waiters);
            for (Waiter w = r.queueHead; w != null; w = w.qNext) {
                out.writeUTF(w.session.id());
                out.writeLong(w.owner);
                out.writeLong(w.seq);
                out.writeByte(w.mode.ordinal());
                out.writeInt(w.permits);
                out.writeLong(w.enqueuedAt);
                out.writeLong(w.deadline);
                out.writeLong(w.leaseMillis);
                if (version >= 4) {
                    out.writeInt(w.group == null ? 0 : w.group.length);
                }
            }
        }
    }

    /** Reads the locks and semaphores onto the sessions read already, and links them into the queues. */
    static void read(TableParts table, DataInputStream in, int format, long lastToken) throws IOException {
        List<Hold> holds = new ArrayList<>();
        List<Waiter> waiting = new ArrayList<>();
        Map<String, List<Waiter>> groups = new java.util.TreeMap<>();
        int resourceCount = SnapshotCodec.count(in, "resources");
        for (int i = 0; i < resourceCount; i++) {
            String name = Names.check(in.readUTF());
            Resource r = new Resource(name, in.readBoolean(), in.readInt());
            if (r.maxPermits < 1 || r.maxPermits > Limits.MAX_PERMITS) {
                throw new SnapshotFormatException("bad permit count for " + name);
            }
            r.blockedUntil = in.readLong();
            if (table.queues.map().put(name, r) != null) {
                throw new SnapshotFormatException("duplicate resource " + name);
            }
            int holders = SnapshotCodec.count(in, "holders");
            for (int j = 0; j < holders; j++) {
                Session s = session(table, in.readUTF());
                long owner = in.readLong();
                long token = in.readLong();
                LockMode mode = mode(in.readUnsignedByte());
                int permits = in.readInt();
                long grantedAt = in.readLong();
                long leaseMillis = in.readLong();
                Hold h = new Hold(s, r, owner, token, mode, permits, grantedAt, leaseMillis);
                h.leaseDeadline = in.readLong();
                int holdCount = in.readInt();
                if (holdCount > 1) {
                    throw new SnapshotFormatException("a grant of " + name + " has a hold count of " + holdCount
                            + ": a reentrant grant, which this build does not have (reentrancy is the client's"
                            + " LeaseLock view)");
                }
                if (token <= 0 || token > lastToken || holdCount < 1 || permits < 1) {
                    throw new SnapshotFormatException("inconsistent holder of " + name);
                }
                holds.add(h);
            }
            int waiters = SnapshotCodec.count(in, "waiters");
            for (int j = 0; j < waiters; j++) {
                Session s = session(table, in.readUTF());
                Waiter w = new Waiter(
                        s,
                        r,
                        in.readLong(),
                        in.readLong(),
                        mode(in.readUnsignedByte()),
                        in.readInt(),
                        in.readLong(),
                        in.readLong(),
                        in.readLong());
                int members = format >= 4 ? in.readInt() : 0;
                if (members < 0 || members > Limits.MAX_MULTI_NAMES || (members > 0 && w.mode == LockMode.PERMITS)) {
                    throw new SnapshotFormatException(
                            "bad multi-lock of " + members + " names in the queue of " + name);
                }
                if (members > 0) {
                    List<Waiter> group = groups.computeIfAbsent(s.id() + " " + w.seq, k -> new ArrayList<>());
                    group.add(w);
                    if (group.size() > members) {
                        throw new SnapshotFormatException("the multi-lock of session " + s.id() + " and seq " + w.seq
                                + " has more than its " + members + " names");
                    }
                    if (group.size() == members) {
                        linkGroup(group);
                    }
                }
                waiting.add(w);
            }
            table.queues.restoreBlocked(r);
        }
        for (Map.Entry<String, List<Waiter>> g : groups.entrySet()) {
            if (g.getValue().get(0).group == null) {
                throw new SnapshotFormatException(
                        "the multi-lock of session and seq " + g.getKey() + " is missing some of its names");
            }
        }
        // Queues go back in their order, after their multi-locks are linked (a group's first
        // member carries its timer and its place in the wait-for graph).
        for (Waiter w : waiting) {
            table.queues.restoreWaiter(w);
        }
        // Holders go back in token order, which is grant order, into both their lists.
        holds.sort(Comparator.comparingLong(h -> h.token));
        for (Hold h : holds) {
            table.queues.restoreHold(h);
        }
    }

    /** Links the members of one multi-lock's wait, read from the queues of its names. */
    private static void linkGroup(List<Waiter> members) throws SnapshotFormatException {
        members.sort(Comparator.comparing(w -> w.resource.name));
        Waiter first = members.get(0);
        Waiter[] group = members.toArray(new Waiter[0]);
        for (Waiter m : group) {
            if (m.owner != first.owner
                    || m.mode != first.mode
                    || m.deadline != first.deadline
                    || m.leaseMillis != first.leaseMillis
                    || m.enqueuedAt != first.enqueuedAt
                    || m.permits != 1) {
                throw new SnapshotFormatException(
                        "the members of a multi-lock of session " + first.session.id() + " disagree");
            }
            m.group = group;
        }
    }

    private static Session session(TableParts table, String id) throws SnapshotFormatException {
        Session s = table.sessions.get(id);
        if (s == null) {
            throw new SnapshotFormatException("reference to unknown session " + id);
        }
        return s;
    }

    private static LockMode mode(int ordinal) throws SnapshotFormatException {
        if (ordinal >= LockMode.values().length) {
            throw new SnapshotFormatException("unknown lock mode " + ordinal);
        }
        return LockMode.values()[ordinal];
    }
}
