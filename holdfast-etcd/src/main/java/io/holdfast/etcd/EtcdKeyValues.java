package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.internal.WatchRunner;
import io.holdfast.store.StoreKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The keys of an etcd client ({@link io.holdfast.LockClient#keys()}), under its namespace ({@link
 * KeySpace}, {@link StoredKey}). Arguments and capabilities were checked before ({@code
 * Handles.keys}).
 *
 * <ul>
 *   <li>A read is an etcd range (linearizable); a list is one range from the prefix, or from just
 *       after {@code after}, to the prefix's end, at most {@code limit} keys, in etcd's order of
 *       bytes, with the revision it was read at as its position.
 *   <li>Every write, and an add, is a transaction of one op ({@link StoreKeys}) through {@link
 *       KeyCommit}: a read, then a write on condition that nothing read has changed. etcd has no
 *       add of its own: a counter's add is this compare-and-set loop, run here, not by the caller.
 *   <li>An attached key lives on the client's session lease ({@link EtcdSession}): etcd deletes it
 *       when the lease ends (the client closes and revokes it, or it expires). A key with a time to
 *       live gets an etcd lease of its own, of the time to live rounded up to whole seconds (etcd
 *       may raise a lease to its minimum TTL, about 2 s by default); a later write of the key moves
 *       it off that lease, which then expires with nothing on it. A key cannot be both.
 *   <li>A watch follows etcd's revisions ({@link KeyFeed}).
 * </ul>
 */
final class EtcdKeyValues extends StoreKeys {
    private final KV kv;
    private final io.etcd.jetcd.Watch watch;
    private final Calls calls;
    private final KeySpace space;
    private final KeyCommit commits;
    private final ScheduledExecutorService timers;

    /** @param timers where a watch's pauses after a failed read are timed */
    EtcdKeyValues(
            KV kv,
            io.etcd.jetcd.Watch watch,
            Calls calls,
            KeySpace space,
            KeyCommit commits,
            String sessionId,
            ScheduledExecutorService timers) {
        super(sessionId);
        this.kv = kv;
        this.watch = watch;
        this.calls = calls;
        this.space = space;
        this.commits = commits;
        this.timers = timers;
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        GetResponse r = calls.await("reading key " + key, () -> kv.get(space.key(key)));
        return r.getKvs().stream()
                .map(space::decode)
                .filter(k -> k != null)
                .map(StoredKey::entry)
                .findFirst();
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        ByteSequence start = space.key(prefix);
        ByteSequence end = OptionsUtil.prefixEndOf(start);
        if (!after.isEmpty()) {
            ByteSequence next = space.key(after).concat(ByteSequence.from(new byte[] {0}));
            if (compare(next, start) > 0) {
                start = next;
            }
        }
        ByteSequence from = start;
        GetResponse r = calls.await(
                "listing keys " + prefix + "*",
                () -> kv.get(
                        from,
                        GetOption.builder().withRange(end).withLimit(limit).build()));
        List<KeyEntry> entries = new ArrayList<>(r.getKvs().size());
        for (var k : r.getKvs()) {
            StoredKey s = space.decode(k);
            if (s != null) {
                entries.add(s.entry());
            }
        }
        return new KeyListing(entries, r.isMore(), Long.toString(r.getHeader().getRevision()));
    }

    /** etcd's order of keys: unsigned bytes. */
    private static int compare(ByteSequence a, ByteSequence b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(), b.getBytes());
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        WatchTarget target = WatchTarget.keys(prefix);
        return WatchRunner.start(
                new KeyFeed(kv, watch, calls, space),
                target,
                listener,
                () -> !calls.stopped(),
                DaemonThreads.threadPerTask("holdfast-watch " + target),
                timers);
    }

    /** One etcd transaction's round ({@link KeyCommit}), for a single write as for a commit. */
    @Override
    protected TxnResult run(Txn txn, boolean single) {
        return commits.run(txn, !single);
    }
}
