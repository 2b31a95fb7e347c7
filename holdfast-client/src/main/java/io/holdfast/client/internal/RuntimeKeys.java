package io.holdfast.client.internal;

import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.TxnMapping;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The keys of a {@link ClientRuntime}, behind {@code Handles.keys} (which checks every argument and
 * capability first): a write is one command with the session's invocation, so a retry after a lost
 * answer applies once; a read is a listing of the service ({@link
 * io.holdfast.model.LockService#keys}), read at the leader.
 *
 * <p>A write whatever the key's version is a transaction of one put: the register write ({@link
 * RegisterSet}) always compares a version. Its refusal is answered as the put's own, without
 * the transaction's "then op 1: ".
 */
final class RuntimeKeys implements Keys {
    private static final String SINGLE_OP = "then op 1: ";

    private final ClientRuntime rt;

    RuntimeKeys(ClientRuntime rt) {
        this.rt = rt;
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        KeyListing page = list(key, "", 1);
        return page.entries().stream().filter(e -> e.key().equals(key)).findFirst();
    }

    @Override
    public KeyEntry put(String key, byte[] value, PutOptions options) {
        // A put of any version, or on a lease, is a transaction of that one put: a register write
        // (RegisterSet) refuses any version and names no lease.
        if (options.expectedVersion() == ANY_VERSION || options.lease() != null) {
            Txn single = Txn.when().then(Txn.put(key, value, options));
            Reply reply = Replies.join(rt.callOnce(inv -> TxnMapping.command(inv, single)));
            if (reply instanceof Reply.Transacted t) {
                return written(key, value, options, t.results().get(0).version());
            }
            throw Replies.failure(withoutSingleOp(reply));
        }
        long ttl = options.ttl().toMillis();
        Reply.Written w = send(
                Reply.Written.class,
                inv -> new RegisterSet(
                        inv, key, options.expectedVersion(), value, null, 0, true, options.lifetime(), ttl));
        return written(key, value, options, w.version());
    }

    private KeyEntry written(String key, byte[] value, PutOptions options, long version) {
        String owner = options.lease() != null ? options.lease() : options.attached() ? rt.sessionId() : null;
        return new KeyEntry(key, version, value, owner);
    }

    @Override
    public long delete(String key, long expectedVersion) {
        return send(Reply.Ok.class, inv -> new KeyDelete(inv, key, expectedVersion))
                .value();
    }

    /**
     * One command per page ({@link KeyDeletePrefix}, each with its own invocation, so a page whose
     * answer was lost applies once), until a page deletes fewer keys than its limit.
     */
    @Override
    public long deletePrefix(String prefix) {
        long deleted = 0;
        long page;
        do {
            page = send(Reply.Ok.class, inv -> new KeyDeletePrefix(inv, prefix, KeyDeletePrefix.MAX_LIMIT))
                    .value();
            deleted += page;
        } while (page == KeyDeletePrefix.MAX_LIMIT);
        return deleted;
    }

    @Override
    public long add(String key, long delta) {
        return send(Reply.Counted.class, inv -> new CounterAdd(inv, key, delta)).value();
    }

    /** Sends a command with the session's next invocation; its answer, or the refusal thrown. */
    private <R extends Reply> R send(Class<R> answer, Function<Command.Invocation, Command> build) {
        Reply reply = Replies.join(rt.callOnce(build));
        if (answer.isInstance(reply)) {
            return answer.cast(reply);
        }
        throw Replies.failure(reply);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        return listing(Replies.join(rt.query(t -> t.keys(null, prefix, after, limit))));
    }

    /** Keys only: the service leaves the values out ({@code KeysRequest.keys_only} on the wire). */
    @Override
    public KeyListing list(String prefix, String after, int limit, boolean keysOnly) {
        return listing(Replies.join(rt.query(t -> t.keys(null, prefix, after, limit, keysOnly))));
    }

    /** A page as the API shows it. */
    static KeyListing listing(KeyPage page) {
        List<KeyEntry> entries = new ArrayList<>(page.keys().size());
        for (KeyPage.Entry e : page.keys()) {
            entries.add(new KeyEntry(e.key(), e.version(), e.value(), e.owner()));
        }
        return new KeyListing(entries, page.more(), page.position().toString());
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        return rt.watch(WatchTarget.keys(prefix), listener);
    }

    @Override
    public Watch watch(String prefix, String fromPosition, WatchListener listener) {
        return rt.watch(WatchTarget.keys(prefix), fromPosition, listener);
    }

    @Override
    public TxnResult commit(Txn txn) {
        return TxnMapping.result(send(Reply.Transacted.class, inv -> TxnMapping.command(inv, txn)));
    }

    /** A refusal of the one put of a single-op transaction, told as the put's own. */
    private static Reply withoutSingleOp(Reply reply) {
        if (reply instanceof Reply.Failed f && f.message().startsWith(SINGLE_OP)) {
            return new Reply.Failed(f.code(), f.message().substring(SINGLE_OP.length()), f.cycle(), f.currentVersion());
        }
        return reply;
    }
}
