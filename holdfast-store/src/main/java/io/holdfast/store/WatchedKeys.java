package io.holdfast.store;

import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.util.Optional;

/**
 * A store's keys as its client hands them out: every call goes to the backend's keys ({@link
 * StoreBackend#keys()}) but a watch, which is the client's {@link LockClient#watch} of {@link
 * WatchTarget#keys}: the backend's own watch of keys where it has one, else the polling feed over
 * its lists. Both ways in ({@code keys().watch(p)} and {@code watch(WatchTarget.keys(p))}) are then
 * the same watch.
 */
final class WatchedKeys implements Keys {
    private final Keys backend;
    private final LockClient client;

    WatchedKeys(Keys backend, LockClient client) {
        this.backend = backend;
        this.client = client;
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        return backend.get(key);
    }

    @Override
    public KeyEntry put(String key, byte[] value, PutOptions options) {
        return backend.put(key, value, options);
    }

    @Override
    public long delete(String key, long expectedVersion) {
        return backend.delete(key, expectedVersion);
    }

    @Override
    public long add(String key, long delta) {
        return backend.add(key, delta);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        return backend.list(prefix, after, limit);
    }

    @Override
    public long deletePrefix(String prefix) {
        return backend.deletePrefix(prefix);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit, boolean keysOnly) {
        return backend.list(prefix, after, limit, keysOnly);
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        return client.watch(WatchTarget.keys(prefix), listener);
    }

    @Override
    public TxnResult commit(Txn txn) {
        return backend.commit(txn);
    }
}
