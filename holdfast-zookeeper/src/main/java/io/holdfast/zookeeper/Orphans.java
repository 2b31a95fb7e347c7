package io.holdfast.zookeeper;

import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException.Code;

/**
 * Tries that failed with {@link UnavailableException} and may have left a node: the create's answer
 * was lost, or the queue could not be read after it. The client may retry such a try with the same
 * owner, which then {@link #claim claims} the entry and adopts the node; a try that is not retried
 * by its deadline is swept: its node is deleted, so that it is never granted to nobody.
 */
final class Orphans {
    /** What sweeping needs from the store. */
    interface Store {
        /** The path of the owner's node in the queue at {@code parent}, or null. */
        String findOwned(String parent, String owner);

        /** Deletes a node, retrying in the background if the store is unreachable. */
        void removeQuietly(String path);
    }

    /**
     * One try.
     *
     * @param knownPath its node, if known
     * @param create its create, if the answer is still to come
     * @param sweepAfterNanos when no retry can come any more (on the client's ticker)
     */
    record Entry(
            String parent,
            String owner,
            String knownPath,
            CompletableFuture<CuratorEvent> create,
            long sweepAfterNanos) {
        /** The node's path, if known by now. */
        String path() {
            if (knownPath != null) {
                return knownPath;
            }
            if (create != null && create.isDone()) {
                CuratorEvent ev = create.getNow(null);
                if (ev != null && Zk.code(ev) == Code.OK) {
                    return parent + "/" + ZKPaths.getNodeFromPath(ev.getName());
                }
            }
            return null;
        }
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Ticker ticker;
    private final Store store;

    Orphans(Ticker ticker, Store store) {
        this.ticker = ticker;
        this.store = store;
    }

    void add(Entry entry) {
        entries.put(entry.owner(), entry);
    }

    /** The entry of an earlier try of this owner, now the caller's, or null. */
    Entry claim(String owner) {
        return entries.remove(owner);
    }

    /** Deletes the nodes of entries whose tries can no longer be retried. */
    void sweep() {
        long now = ticker.nanos();
        for (Entry e : entries.values()) {
            if (now - e.sweepAfterNanos() < 0
                    || (e.create() != null && !e.create().isDone())) {
                continue; // a retry may still come, or the create may still answer
            }
            if (!entries.remove(e.owner(), e)) {
                continue; // claimed by a retry meanwhile
            }
            try {
                String path = e.path() != null ? e.path() : store.findOwned(e.parent(), e.owner());
                if (path != null) {
                    store.removeQuietly(path);
                }
            } catch (UnavailableException | IllegalStateException notNow) {
                entries.putIfAbsent(e.owner(), e);
            }
        }
    }
}
