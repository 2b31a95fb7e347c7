package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
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
 * key a compare or op names, and the queue of every lock a {@link Txn.Compare.Fence} names; (2)
 * the compares are evaluated on that read, the branch chosen, and its ops played in order on a copy
 * of it ({@link KeyPlan}), which checks each op's expected version and answers its result; (3) one
 * etcd transaction {@code If} every key read has the modification revision it was read with (0:
 * still absent), and every fence's grant key still has the revision that is its token, {@code
 * Then} each written key's final state, one put or delete per key. If the {@code If} fails,
 * something read has changed: the round starts again. So the transaction's reads, choice and
 * writes all hold at the revision of that last etcd transaction: it is one step. A branch with no
 * writes is answered from the read, at its revision. An op refused for its version is refused at
 * the read's revision, and nothing is written.
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

    KeyCommit(KV kv, Calls calls, KeySpace space, EtcdKeys locks, String sessionId, KeyPlan.Leases leases) {
        this.kv = kv;
        this.calls = calls;
        this.space = space;
        this.locks = locks;
        this.sessionId = sessionId;
        this.leases = leases;
    }

    /**
     * Runs {@code txn}.
     *
     * @param labelled whether a refused op is named by branch and number ("then op 2: ...")
     */
    TxnResult run(Txn txn, boolean labelled) {
        for (Txn.Compare c : txn.compares()) {
            if (c instanceof Txn.Compare.Holder || c instanceof Txn.Compare.SessionAlive) {
                throw new UnsupportedFeatureException("the etcd provider cannot compare "
                        + (c instanceof Txn.Compare.Holder ? "a lock's holder" : "a session's liveness")
                        + " in a transaction: etcd compares single keys, not a lock's queue or a session");
            }
        }
        for (int round = 0; round < ROUNDS; round++) {
            Snapshot s = read(txn);
            boolean holds = txn.compares().stream().allMatch(s::holds);
            KeyPlan plan = new KeyPlan(s.keys, leases);
            List<Txn.Op> branch = holds ? txn.then() : txn.otherwise();
            List<TxnResult.OpResult> results = new ArrayList<>(branch.size());
            for (int i = 0; i < branch.size(); i++) {
                String label = labelled ? (holds ? "then" : "otherwise") + " op " + (i + 1) + ": " : "";
                results.add(plan.apply(branch.get(i), label));
            }
            TxnResult result = new TxnResult(holds, results);
            if (plan.written().isEmpty() || write(s, plan)) {
                return result;
            }
        }
        throw new UnavailableException(
                "the keys of a transaction kept changing under it in etcd (" + ROUNDS + " rounds)");
    }

    /** What one round read, at one revision. */
    private final class Snapshot {
        final Map<String, StoredKey> keys = new LinkedHashMap<>();
        /** The grant key of each fence that holds; absent for one that does not. */
        final Map<Txn.Compare.Fence, ByteSequence> fences = new HashMap<>();

        boolean holds(Txn.Compare c) {
            if (c instanceof Txn.Compare.Version v) {
                StoredKey k = keys.get(v.key());
                long version = k == null ? 0 : k.version();
                return switch (v.order()) {
                    case EQUAL -> version == v.version();
                    case NOT_EQUAL -> version != v.version();
                    case LESS -> version < v.version();
                    case GREATER -> version > v.version();
                };
            } else if (c instanceof Txn.Compare.Value v) {
                StoredKey k = keys.get(v.key());
                return k != null && java.util.Arrays.equals(k.value(), v.value());
            } else if (c instanceof Txn.Compare.Absent a) {
                return keys.get(a.key()) == null;
            }
            return fences.containsKey((Txn.Compare.Fence) c);
        }
    }

    private Snapshot read(Txn txn) {
        List<String> names = new ArrayList<>();
        List<Txn.Compare.Fence> fences = new ArrayList<>();
        for (Txn.Compare c : txn.compares()) {
            if (c instanceof Txn.Compare.Fence f) {
                fences.add(f);
            } else {
                names.add(keyOf(c));
            }
        }
        txn.then().forEach(op -> names.add(op.key()));
        txn.otherwise().forEach(op -> names.add(op.key()));
        List<String> distinct = names.stream().distinct().toList();
        List<Op> reads = new ArrayList<>();
        distinct.forEach(name -> reads.add(Op.get(space.key(name), GetOption.DEFAULT)));
        fences.forEach(f -> reads.add(Op.get(locks.prefix(f.lock()), EtcdKeys.byCreation())));
        TxnResponse r = calls.await(
                "reading the keys of a transaction",
                () -> kv.txn().Then(reads.toArray(Op[]::new)).commit());
        List<GetResponse> got = r.getGetResponses();
        Snapshot s = new Snapshot();
        for (int i = 0; i < distinct.size(); i++) {
            var kvs = got.get(i).getKvs();
            s.keys.put(distinct.get(i), kvs.isEmpty() ? null : space.decode(kvs.get(0)));
        }
        for (int i = 0; i < fences.size(); i++) {
            Txn.Compare.Fence f = fences.get(i);
            ByteSequence prefix = locks.prefix(f.lock());
            for (Entry e :
                    Queue.holders(EtcdKeys.decode(got.get(distinct.size() + i).getKvs(), prefix.size()))) {
                if (e.modRevision() == f.token() && sessionId.equals(e.sessionId())) {
                    s.fences.put(f, locks.key(f.lock(), e.owner()));
                }
            }
        }
        return s;
    }

    private static String keyOf(Txn.Compare c) {
        if (c instanceof Txn.Compare.Version v) {
            return v.key();
        } else if (c instanceof Txn.Compare.Value v) {
            return v.key();
        }
        return ((Txn.Compare.Absent) c).key();
    }

    /** The round's writes, if nothing it read has changed; false when something has. */
    private boolean write(Snapshot s, KeyPlan plan) {
        List<Cmp> unchanged = new ArrayList<>();
        s.keys.forEach((name, k) -> unchanged.add(
                new Cmp(space.key(name), Cmp.Op.EQUAL, CmpTarget.modRevision(k == null ? 0 : k.modRevision()))));
        s.fences.forEach((f, key) -> unchanged.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(f.token()))));
        List<Long> granted = new ArrayList<>();
        List<Op> writes = new ArrayList<>();
        boolean written = false; // true once the write may have landed: its leases are then kept
        try {
            plan.written().forEach((name, k) -> {
                ByteSequence key = space.key(name);
                if (k == null) {
                    writes.add(Op.delete(key, DeleteOption.DEFAULT));
                } else {
                    long lease = plan.leaseOf(name, granted);
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
