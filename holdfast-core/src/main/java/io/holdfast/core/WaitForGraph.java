package io.holdfast.core;

import io.holdfast.LockMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The wait-for graph of {@link LockTable}'s lock waits, for deadlock detection. Owners (session,
 * owner id) are its nodes; an owner that waits points at the holders of each lock it waits for
 * whose mode conflicts with its own, and at every waiter ahead of it in that lock's queue (the fair
 * queue grants those first). A multi-lock's wait points from each of its names at once: it needs
 * them all. Semaphore waits are left out: any of several holders can free a permit, so a cycle
 * through a semaphore is not necessarily a deadlock.
 *
 * <p>The graph is derived state: the table adds each lock wait as it queues it and removes it as it
 * leaves its queue, and rebuilds it from a snapshot's queues. Searching it changes nothing.
 */
final class WaitForGraph {
    /** The most lock names a deadlock reply lists. */
    static final int MAX_CYCLE_NAMES = 64;

    record OwnerKey(String sessionId, long owner) {}

    /** The wait of each waiting owner (a multi-lock's first member), lock waits only. */
    private final Map<OwnerKey, Waiter> waits = new HashMap<>();

    /** Records a queued lock wait (for a multi-lock: once, for the group). */
    void add(Waiter w) {
        if (w.mode != LockMode.PERMITS) {
            waits.put(new OwnerKey(w.session.id(), w.owner), w);
        }
    }

    /** Forgets the wait of {@code w}'s owner; called for each member of a group, harmlessly. */
    void remove(Waiter w) {
        if (w.mode != LockMode.PERMITS) {
            waits.remove(new OwnerKey(w.session.id(), w.owner));
        }
    }

    /**
     * Searches for a path from the blockers of a new wait by {@code me} for {@code wanted} (every
     * lock of a multi-lock, or one) back to {@code me}: depth-first, each owner visited once.
     * Returns the lock names along the cycle, starting with a wanted one, or null if there is none.
     */
    List<String> findCycle(OwnerKey me, List<Resource> wanted, LockMode mode) {
        // queuedUnder: the mode of the wait whose blockers included this owner as a waiter
        // ahead in via's queue (null if it was found as a holder).
        record Step(OwnerKey prev, Resource via, LockMode queuedUnder) {}
        Map<OwnerKey, Step> reached = new HashMap<>();
        List<OwnerKey> stack = new ArrayList<>();
        List<OwnerKey> blockers = new ArrayList<>();
        OwnerKey node = me;
        Waiter[] members = null; // null: the new wait, on the wanted locks
        while (true) {
            int parts = members == null ? wanted.size() : members.length;
            for (int part = 0; part < parts; part++) {
                Resource waitsOn = members == null ? wanted.get(part) : members[part].resource;
                LockMode waitMode = members == null ? mode : members[part].mode;
                blockers.clear();
                int holders = collectBlockers(waitsOn, waitMode, members == null ? null : members[part], blockers);
                for (int i = 0; i < blockers.size(); i++) {
                    OwnerKey b = blockers.get(i);
                    if (b.equals(me)) {
                        List<String> names = new ArrayList<>();
                        names.add(waitsOn.name);
                        for (OwnerKey k = node; !k.equals(me); ) {
                            Step step = reached.get(k);
                            names.add(step.via().name);
                            k = step.prev();
                        }
                        Collections.reverse(names);
                        // Bounded so that a remembered reply always fits the snapshot format.
                        return names.size() <= MAX_CYCLE_NAMES ? names : names.subList(0, MAX_CYCLE_NAMES);
                    }
                    if (!reached.containsKey(b)) {
                        reached.put(b, new Step(node, waitsOn, i >= holders ? waitMode : null));
                        stack.add(b);
                    }
                }
            }
            Waiter next = null;
            while (next == null && !stack.isEmpty()) {
                node = stack.remove(stack.size() - 1);
                Waiter w = waits.get(node);
                Step step = reached.get(node);
                // A waiter on one lock found in the queue it waits in, under a wait that conflicts
                // with at least the holders it conflicts with, adds nothing: its blockers (those
                // holders and the waiters ahead of it) were all reached in that same step.
                boolean covered = w != null
                        && w.group == null
                        && step.queuedUnder() != null
                        && step.via() == w.resource
                        && (step.queuedUnder() == LockMode.EXCLUSIVE || w.mode == LockMode.SHARED);
                if (!covered) {
                    next = w;
                }
            }
            if (next == null) {
                return null;
            }
            members = next.group != null ? next.group : new Waiter[] {next};
        }
    }

    /**
     * The owners a waiter for {@code mode} on {@code r} waits for: the holders whose mode conflicts
     * with it and the waiters ahead of {@code self} (null for a new wait: all of them).
     */
    private static int collectBlockers(Resource r, LockMode mode, Waiter self, List<OwnerKey> out) {
        for (Hold h = r.holdersHead; h != null; h = h.rNext) {
            if (mode == LockMode.EXCLUSIVE || h.mode == LockMode.EXCLUSIVE) {
                out.add(new OwnerKey(h.session.id(), h.owner));
            }
        }
        int holders = out.size();
        for (Waiter w = r.queueHead; w != null && w != self; w = w.qNext) {
            out.add(new OwnerKey(w.session.id(), w.owner));
        }
        return holders;
    }
}
