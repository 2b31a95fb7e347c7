package io.holdfast.core;

import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.WaiterInfo;
import io.holdfast.model.SessionPage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The read-only views of {@link LockTable} that operators and the node's reads see: one lock, pages
 * of locks and of sessions, and the table's sizes. Every view is a fresh copy, sorted by name or
 * id, so it is the same on every replica that holds the same state.
 *
 * <p>Guarantees: nothing here changes the table, and durations are never negative (a view timed
 * before the table's clock is timed by the clock). It does not check who may see what: callers
 * pass a {@code visible} filter (see {@link LockTable#mayRead} and {@link LockTable#isAdmin}).
 */
final class TableViews {
    private TableViews() {}

    /** One lock or semaphore, timed at {@code at}, or empty if there is no such name. */
    static Optional<LockInfo> describe(Map<String, Resource> resources, String name, long at) {
        Resource r = resources.get(name);
        return r == null ? Optional.empty() : Optional.of(info(r, at));
    }

    /** See {@link LockTable#list(String, String, int, long, Predicate)}. */
    static List<LockInfo> list(
            Map<String, Resource> resources,
            String prefix,
            String after,
            int limit,
            long at,
            Predicate<String> visible) {
        if (prefix == null) {
            prefix = "";
        }
        List<String> names = new ArrayList<>();
        for (String name : resources.keySet()) {
            if (name.startsWith(prefix) && (after == null || name.compareTo(after) > 0) && visible.test(name)) {
                names.add(name);
            }
        }
        Collections.sort(names);
        List<LockInfo> out = new ArrayList<>();
        for (String name : names.subList(0, Math.min(names.size(), Math.max(0, limit)))) {
            out.add(info(resources.get(name), at));
        }
        return out;
    }

    static LockInfo info(Resource r, long at) {
        List<HolderInfo> holders = new ArrayList<>();
        for (Hold h = r.holdersHead; h != null; h = h.rNext) {
            holders.add(new HolderInfo(
                    h.session.id(),
                    h.session.clientName,
                    h.mode,
                    h.permits,
                    h.token,
                    1, // the server has no reentrant grants: reentrancy is the client's LeaseLock view
                    Duration.ofMillis(Math.max(0, at - h.grantedAt)),
                    h.leaseMillis == 0 ? null : Duration.ofMillis(Math.max(0, h.leaseDeadline - at))));
        }
        List<WaiterInfo> waiters = new ArrayList<>();
        for (Waiter w = r.queueHead; w != null; w = w.qNext) {
            waiters.add(new WaiterInfo(
                    w.session.id(),
                    w.session.clientName,
                    w.mode,
                    w.permits,
                    Duration.ofMillis(Math.max(0, at - w.enqueuedAt)),
                    Duration.ofMillis(Math.max(0, w.deadline - at))));
        }
        return new LockInfo(r.name, r.semaphore, r.maxPermits, holders, waiters);
    }

    /** See {@link LockTable#sessions(String, int, long, Predicate)}. */
    static List<SessionPage.Session> sessions(
            List<Session> sessions, String after, int limit, long at, Predicate<SessionPage.Session> visible) {
        java.util.TreeMap<String, Session> byId = new java.util.TreeMap<>();
        for (Session s : sessions) {
            String id = s.id();
            if (after == null || id.compareTo(after) > 0) {
                byId.put(id, s);
            }
        }
        List<SessionPage.Session> out = new ArrayList<>();
        for (Map.Entry<String, Session> e : byId.entrySet()) {
            if (out.size() >= limit) {
                break;
            }
            Session s = e.getValue();
            SessionPage.Session v = new SessionPage.Session(
                    e.getKey(),
                    s.identity,
                    s.clientName,
                    s.ttlMillis,
                    s.lockDelayMillis,
                    Math.max(0, at - s.openedAt),
                    s.holdCount,
                    s.waitCount,
                    null);
            if (visible.test(v)) {
                out.add(v);
            }
        }
        return out;
    }

    /** The table's sizes; walks every lock (linear in their number). */
    static LockTable.Stats stats(int sessions, Map<String, Resource> resources, Registers registers, long lastToken) {
        long holds = 0;
        long waiters = 0;
        int longest = 0;
        for (Resource r : resources.values()) {
            holds += r.holderCount;
            waiters += r.waiterCount;
            longest = Math.max(longest, r.waiterCount);
        }
        return new LockTable.Stats(
                sessions, resources.size(), holds, waiters, longest, registers.size(), registers.bytes(), lastToken);
    }
}
