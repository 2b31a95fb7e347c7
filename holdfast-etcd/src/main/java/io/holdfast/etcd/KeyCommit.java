package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.holdfast.Counters;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnavailableException;
import io.holdfast.store.KeyPlay;
import io.holdfast.store.KeyRules;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link Txn} against etcd as one etcd transaction, and so every single write of {@link
 * EtcdKeyValues} (a transaction of one op).
 *
 * <p><b>How.</b> One round: (1) one etcd transaction of reads only, so all at one revision: every
 * key a compare or op names, the queue of every lock a {@link Txn.Compare.Fence} names, and the
 * count of keys attached to the session lease ({@link KeySpace#attached}); (2) the compares are
 * evaluated on that read, the branch chosen, and its ops played in order on a copy of it ({@link
 * KeyPlay}), which checks each op's expected version and the limit of keys per session, and answers
 * its result; (3) one etcd transaction {@code If} every key read has the modification revision it
 * was read with (0: still absent), every fence's grant key still has the revision that is its
 * token, and every count of attached keys the round changes is as read, {@code Then} each written
 * key's final state, one put or delete per key, and each changed count. If the {@code If} fails,
 * something read has changed: the round starts again. So the transaction's reads, choice and
 * writes all hold at the revision of that last etcd transaction: it is one step. A branch with no
 * writes is answered from the read, at its revision. An op refused for its version or a limit is
 * refused at the read's revision, and nothing is written.
 *
 * <p><b>Keys per session.</b> Each session lease has a count of the keys attached to it, which
 * lives on that lease (so it goes with them) and which every write that attaches, detaches or
 * deletes such a key changes in the same etcd transaction, under the compare of its modification
 * revision: two writers of one session cannot both take the last place. A count another session's
 * key needs (a key of another session deleted or overwritten) is read after the play, before the
 * write. A session whose lease was lost and replaced counts afresh on the new lease; the keys on the
 * old one go with it.
 *
 * <p><b>Fence.</b> A grant's token is its key's modification revision ({@link Grants}), and a
 * holding entry holds until its key is deleted ({@link Queue}); so a fence holds while the lock's
 * queue has an entry of this session that holds with that modification revision, and the write's
 * {@code If} compares that key's modification revision with the token. A fence that does not hold
 * never holds again (revisions only grow), so it needs no compare.
 *
 * <p><b>Refused.</b> {@link Txn.Compare.Holder} and {@link Txn.Compare.SessionAlive}: etcd
 * compares single keys, a lock's holders are a function of its whole queue (a new entry can hold
 * at once), and this provider keeps no record of other sessions, so neither can be held to the
 * commit's revision.
 */
final class KeyCommit {
    /** How many rounds a commit tries while what it read keeps changing under it. */
    private static final int ROUNDS = 64;

    private final KV kv;
    private final Calls calls;
    private final KeySpace space;
    private final EtcdKeys locks;
    private final String sessionId;
    private final KeyPlan.Leases leases;
    private final int perSession;

    /** @param perSession the most keys attached to one session ({@link io.holdfast.Keys#MAX_KEYS_PER_SESSION}) */
    KeyCommit(
            KV kv,
            Calls calls,
            KeySpace space,
            EtcdKeys locks,
            String sessionId,
            KeyPlan.Leases leases,
            int perSession) {
        this.kv = kv;
        this.calls = calls;
        this.space = space;
        this.locks = locks;
        this.sessionId = sessionId;
        this.leases = leases;
        this.perSession = perSession;
    }

    /**
     * Runs {@code txn}.
     *
     * @param labelled whether a refused op is named by branch and number ("then op 2: ...")
     */
    TxnResult run(Txn txn, boolean labelled) {
        KeyRules.refuseSessionCompares(txn, "etcd", "etcd compares single keys, not a lock's queue or a session");
        List<String> names = KeyRules.keysNamed(txn);
        boolean attaches = writes(txn, true);
        boolean writes = writes(txn, false);
        for (int round = 0; round < ROUNDS; round++) {
            long lease = attaches ? leases.session() : writes ? leases.live() : 0;
            Snapshot s = read(txn, names, lease);
            KeyPlan plan = new KeyPlan(sessionId, lease);
            KeyPlay<StoredKey> play =
                    new KeyPlay<>(s.keys, plan, new KeyPlay.Attached(lease, s.count(lease), sessionId, perSession));
            TxnResult result = play.run(txn, c -> s.fences.containsKey(c), labelled);
            if (play.written().isEmpty() || write(s, play, plan)) {
                return result;
            }
        }
        throw new UnavailableException(
                "the keys of a transaction kept changing under it in etcd (" + ROUNDS + " rounds)");
    }

    /** Whether an op of either branch is a put (that attaches, with {@code attaching}) or a delete. */
    private static boolean writes(Txn txn, boolean attaching) {
        return java.util.stream.Stream.concat(txn.then().stream(), txn.otherwise().stream())
                .anyMatch(op -> op instanceof Txn.Op.Put p
                        ? !attaching || p.options().attached()
                        : !attaching && op instanceof Txn.Op.Delete);
    }

    /** A count of keys attached to a session lease, and the modification revision it was read at (0: absent). */
    private record Count(long keys, long modRevision) {
        static final Count NONE = new Count(0, 0);

        static Count of(List<KeyValue> kvs) {
            return kvs.isEmpty()
                    ? NONE
                    : new Count(
                            KeyRules.counterOf(kvs.get(0).getValue().getBytes()),
                            kvs.get(0).getModRevision());
        }
    }

    /** What one round read, at one revision. */
    private static final class Snapshot {
        final Map<String, StoredKey> keys = new LinkedHashMap<>();
        /** The grant key of each fence that holds; absent for one that does not. */
        final Map<Txn.Compare.Fence, ByteSequence> fences = new HashMap<>();
        /** The counts of attached keys read, by session lease. */
        final Map<Long, Count> counts = new HashMap<>();

        long count(long lease) {
            return counts.getOrDefault(lease, Count.NONE).keys();
        }
    }

    private Snapshot read(Txn txn, List<String> names, long lease) {
        List<Txn.Compare.Fence> fences = new ArrayList<>();
        for (Txn.Compare c : txn.compares()) {
            if (c instanceof Txn.Compare.Fence f) {
                fences.add(f);
            }
        }
        List<Op> reads = new ArrayList<>();
        names.forEach(name -> reads.add(Op.get(space.key(name), GetOption.DEFAULT)));
        fences.forEach(f -> reads.add(Op.get(locks.prefix(f.lock()), EtcdKeys.byCreation())));
        if (lease != 0) {
            reads.add(Op.get(space.attached(lease), GetOption.DEFAULT));
        }
        List<GetResponse> got = get("reading the keys of a transaction", reads);
        Snapshot s = new Snapshot();
        for (int i = 0; i < names.size(); i++) {
            var kvs = got.get(i).getKvs();
            s.keys.put(names.get(i), kvs.isEmpty() ? null : space.decode(kvs.get(0)));
        }
        for (int i = 0; i < fences.size(); i++) {
            Txn.Compare.Fence f = fences.get(i);
            ByteSequence prefix = locks.prefix(f.lock());
            for (Entry e :
                    Queue.holders(EtcdKeys.decode(got.get(names.size() + i).getKvs(), prefix.size()))) {
                if (e.modRevision() == f.token() && sessionId.equals(e.sessionId())) {
                    s.fences.put(f, locks.key(f.lock(), e.owner()));
                }
            }
        }
        if (lease != 0) {
            s.counts.put(lease, Count.of(got.get(got.size() - 1).getKvs()));
        }
        return s;
    }

    /** The answers of one etcd transaction of reads only: all at one revision. */
    private List<GetResponse> get(String what, List<? extends Op> reads) {
        TxnResponse r =
                calls.await(what, () -> kv.txn().Then(reads.toArray(Op[]::new)).commit());
        return r.getGetResponses();
    }

    /** The round's writes, if nothing it read has changed; false when something has. */
    private boolean write(Snapshot s, KeyPlay<StoredKey> play, KeyPlan plan) {
        Map<Long, Long> changes = play.attachedChanges();
        List<Long> unread = changes.keySet().stream()
                .filter(lease -> !s.counts.containsKey(lease))
                .toList();
        if (!unread.isEmpty()) { // another session's keys: their counts change too
            List<GetResponse> got = get(
                    "reading the counts of attached keys",
                    unread.stream()
                            .map(lease -> Op.get(space.attached(lease), GetOption.DEFAULT))
                            .toList());
            for (int i = 0; i < unread.size(); i++) {
                s.counts.put(unread.get(i), Count.of(got.get(i).getKvs()));
            }
        }
        List<Cmp> unchanged = new ArrayList<>();
        s.keys.forEach((name, k) -> unchanged.add(
                new Cmp(space.key(name), Cmp.Op.EQUAL, CmpTarget.modRevision(k == null ? 0 : k.modRevision()))));
        s.fences.forEach((f, key) -> unchanged.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(f.token()))));
        List<Op> writes = new ArrayList<>();
        changes.forEach((lease, by) -> {
            ByteSequence key = space.attached(lease);
            Count was = s.counts.get(lease);
            long now = Math.max(0, was.keys() + by);
            unchanged.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(was.modRevision())));
            writes.add(
                    now == 0
                            ? Op.delete(key, DeleteOption.DEFAULT)
                            : Op.put(
                                    key,
                                    ByteSequence.from(Counters.encode(now)),
                                    PutOption.builder().withLeaseId(lease).build()));
        });
        List<Long> granted = new ArrayList<>();
        boolean written = false; // true once the write may have landed: its leases are then kept
        try {
            play.written().forEach((name, k) -> {
                ByteSequence key = space.key(name);
                if (k == null) {
                    writes.add(Op.delete(key, DeleteOption.DEFAULT));
                } else {
                    long lease = plan.leaseOf(k, leases, granted);
                    PutOption put = lease == 0
                            ? PutOption.DEFAULT
                            : PutOption.builder().withLeaseId(lease).build();
                    writes.add(Op.put(key, k.encode(), put));
                }
            });
            written = true;
            written = calls.await(
                            "writing the keys of a transaction",
                            () -> kv.txn()
                                    .If(unchanged.toArray(Cmp[]::new))
                                    .Then(writes.toArray(Op[]::new))
                                    .commit())
                    .isSucceeded();
            return written;
        } finally {
            if (!written) {
                granted.forEach(leases::revoke);
            }
        }
    }
}
