package io.holdfast.verify.client;

import io.holdfast.verify.history.StoreWrite;
import io.holdfast.verify.store.ProtectedStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A protected store in memory for tests: fenced or not, it keeps every write as a StoreWrite. */
final class MemoryStore implements ProtectedStore {
    private final String name;
    private final boolean fencing;
    private final Map<String, Long> highest = new HashMap<>();
    private final List<StoreWrite> writes = new ArrayList<>();

    MemoryStore(String name, boolean fencing) {
        this.name = name;
        this.fencing = fencing;
    }

    @Override
    public synchronized boolean write(String key, long token, String process, long seq, String phase) {
        long before = highest.getOrDefault(key, 0L);
        boolean accepted = !fencing || token >= before;
        if (accepted) {
            highest.put(key, Math.max(before, token));
        }
        writes.add(new StoreWrite(System.nanoTime(), name, key, token, process, seq, phase, accepted, before));
        return accepted;
    }

    synchronized List<StoreWrite> writes() {
        return List.copyOf(writes);
    }

    @Override
    public void close() {}
}
