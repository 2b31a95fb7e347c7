package io.holdfast.lease;

import io.holdfast.Capability;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.Names;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The {@link Keys} every provider hands out ({@link Handles#keys}): it checks everything the public
 * API promises to check, then calls the engine's keys, which may therefore trust their arguments.
 *
 * <p>Checked here, before anything reaches a store: keys by {@link Names}, values against {@link
 * Keys#MAX_VALUE_BYTES}, a page's limit, the bytes of a transaction, and the capability each call
 * needs ({@link Capability#SESSION_KEYS} for an attached put, {@link Capability#SHARED_LEASES} for a put on a lease, {@link Capability#KEY_TTL} for a time
 * to live, {@link Capability#TRANSACTIONS} for a commit; the same for the puts inside one), each
 * refused by name with {@link io.holdfast.UnsupportedFeatureException}.
 */
final class CheckedKeys implements Keys {
    private final Acquirer engine;
    private final Keys keys;

    CheckedKeys(Acquirer engine, Keys keys) {
        this.engine = engine;
        this.keys = keys;
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        return keys.get(Names.check(key));
    }

    @Override
    public KeyEntry put(String key, byte[] value, PutOptions options) {
        Names.check(key);
        requirePut(options);
        return keys.put(key, Keys.checkValue(value).clone(), options);
    }

    @Override
    public long delete(String key, long expectedVersion) {
        Names.check(key);
        if (expectedVersion < ANY_VERSION) {
            throw new InvalidArgumentException(
                    "the expected version must be 0 or more, or ANY_VERSION, not " + expectedVersion);
        }
        return keys.delete(key, expectedVersion);
    }

    @Override
    public long deletePrefix(String prefix) {
        if (prefix == null || prefix.isEmpty()) {
            throw new InvalidArgumentException(EMPTY_PREFIX_DELETE);
        }
        return keys.deletePrefix(Names.check(prefix));
    }

    @Override
    public long add(String key, long delta) {
        return keys.add(Names.check(key), delta);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        return list(prefix, after, limit, false);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit, boolean keysOnly) {
        checkPrefix(prefix);
        String from = after == null ? "" : after;
        if (!from.isEmpty()) {
            Names.check(from);
        }
        if (limit < 1 || limit > MAX_PAGE) {
            throw new InvalidArgumentException("a page lists 1 to " + MAX_PAGE + " keys, not " + limit);
        }
        return keysOnly ? keys.list(prefix, from, limit, true) : keys.list(prefix, from, limit);
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        checkPrefix(prefix);
        if (listener == null) {
            throw new InvalidArgumentException("the listener must not be null");
        }
        return keys.watch(prefix, listener);
    }

    @Override
    public Watch watch(String prefix, String fromPosition, WatchListener listener) {
        checkPrefix(prefix);
        if (listener == null) {
            throw new InvalidArgumentException("the listener must not be null");
        }
        return keys.watch(prefix, fromPosition, listener);
    }

    @Override
    public TxnResult commit(Txn txn) {
        if (txn == null) {
            throw new InvalidArgumentException("the transaction must not be null");
        }
        Handles.require(engine, Capability.TRANSACTIONS, "transactions");
        long bytes = 0;
        for (Txn.Compare c : txn.compares()) {
            bytes += compareBytes(c);
        }
        bytes += opBytes(txn.then()) + opBytes(txn.otherwise());
        if (bytes > MAX_TXN_BYTES) {
            throw new InvalidArgumentException(
                    "the transaction holds " + bytes + " bytes of keys and values; the limit is " + MAX_TXN_BYTES);
        }
        return keys.commit(txn);
    }

    private static long compareBytes(Txn.Compare c) {
        if (c instanceof Txn.Compare.Version v) {
            return utf8(v.key());
        } else if (c instanceof Txn.Compare.Value v) {
            return utf8(v.key()) + (long) v.value().length;
        } else if (c instanceof Txn.Compare.Absent a) {
            return utf8(a.key());
        } else if (c instanceof Txn.Compare.Fence f) {
            return utf8(f.lock());
        } else if (c instanceof Txn.Compare.Holder h) {
            return utf8(h.lock()) + (long) utf8(h.sessionId());
        }
        return utf8(((Txn.Compare.SessionAlive) c).sessionId());
    }

    private long opBytes(List<Txn.Op> ops) {
        long bytes = 0;
        for (Txn.Op op : ops) {
            bytes += utf8(op.key());
            if (op instanceof Txn.Op.Put p) {
                requirePut(p.options());
                bytes += p.value().length;
            }
        }
        return bytes;
    }

    private void requirePut(PutOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("the put's options must not be null (PutOptions.any())");
        }
        if (options.attached()) {
            Handles.require(engine, Capability.SESSION_KEYS, "keys attached to a session");
        }
        if (options.lease() != null) {
            Handles.require(engine, Capability.SHARED_LEASES, "keys on another session's lease");
        }
        if (!options.ttl().isZero()) {
            Handles.require(engine, Capability.KEY_TTL, "keys with a time to live");
        }
    }

    private static void checkPrefix(String prefix) {
        if (prefix == null) {
            throw new InvalidArgumentException("the prefix must not be null (\"\" for every key)");
        }
        if (!prefix.isEmpty()) {
            Names.check(prefix);
        }
    }

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    @Override
    public String toString() {
        return "Keys[" + engine.provider() + "]";
    }
}
