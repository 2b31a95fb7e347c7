package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.holdfast.UnavailableException;
import io.holdfast.internal.DaemonThreads;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keys of waits that ended (timed out, interrupted, etcd unreachable) but could not be deleted
 * then. A live session would keep such a key, and so block the queue behind it, forever; so they
 * are deleted from a thread of their own once etcd answers again. An attempt retried with the same
 * owner takes its key back first ({@link #cancel}), waiting for a deletion in flight, so a retry
 * never loses a key it has just found.
 */
final class AbandonedWaits {
    private final KV kv;
    private final Calls calls;
    private final Map<String, ByteSequence> keys = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private final ScheduledExecutorService cleaner;

    AbandonedWaits(KV kv, Calls calls, String threadName) {
        this.kv = kv;
        this.calls = calls;
        this.cleaner = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(threadName));
        cleaner.scheduleWithFixedDelay(this::deleteAll, 1, 1, TimeUnit.SECONDS);
    }

    /** Deletes the owner's key later. */
    void add(String owner, ByteSequence key) {
        if (!calls.stopped()) {
            keys.put(owner, key);
        }
    }

    /** The owner is trying again: its key is wanted. */
    void cancel(String owner) {
        synchronized (lock) {
            keys.remove(owner);
        }
    }

    private void deleteAll() {
        if (keys.isEmpty() || calls.stopped()) {
            return;
        }
        for (String owner : new ArrayList<>(keys.keySet())) {
            synchronized (lock) {
                ByteSequence key = keys.get(owner);
                if (key == null) {
                    continue;
                }
                try {
                    calls.await("deleting an abandoned wait", () -> kv.delete(key));
                    keys.remove(owner, key);
                } catch (UnavailableException e) {
                    return; // still unreachable: next round
                }
            }
        }
    }

    void close() {
        cleaner.shutdownNow();
        keys.clear();
    }
}
