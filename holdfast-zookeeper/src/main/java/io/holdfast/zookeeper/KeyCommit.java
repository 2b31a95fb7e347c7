package io.holdfast.zookeeper;

import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;

/**
 * Runs a {@link Txn} against ZooKeeper as one {@code multi}, and so every single write of {@link
 * ZooKeeperKeys} (a transaction of one op).
 *
 * <p><b>How.</b> One round: (1) every key a compare or op names, and the node of every grant a
 * {@link Txn.Compare.Fence} names, read at one point ({@link KeyReads}); (2) the compares evaluated
 * on that read, the branch chosen, and its ops played on a copy of it ({@link KeyPlan}), which
 * checks each op's expected version and answers its result; (3) one {@code multi} that fails unless
 * everything read is as it was read: a node read is checked at its data version ({@code check}, or
 * the {@code setData}/{@code delete} that writes it, which take the version); a key read absent is
 * created by the write, or else created and deleted again in the same multi (ZooKeeper has no check
 * of absence); a fence's grant node is checked. If the multi fails, something read changed, and the
 * round starts again. So the compares, the choice and the writes all hold at the multi: one step. A
 * branch that writes nothing and compares no fence is answered from the read, at its point.
 *
 * <p><b>Fence.</b> A grant's node lives exactly as long as the grant ({@link ZooKeeperRegisters}
 * fences the same way): a fence holds while this client holds a grant of the lock with that token
 * ({@link Holdings}) and its node exists, checked in the multi. A grant that ended never comes back.
 *
 * <p><b>Refused.</b> {@link Txn.Compare.Holder} and {@link Txn.Compare.SessionAlive}: a {@code
 * check} compares one node's data version, not a queue's children (a new node can hold at once),
 * and the provider keeps no record of other clients' sessions.
 */
final class KeyCommit {
    private static final int ROUNDS = 64;

    private final CuratorFramework curator;
    private final Zk zk;
    private final KeyReads reads;
    private final Holdings holdings;
    private final String sessionId;
    private final LongSupplier zkSession;

    KeyCommit(
            CuratorFramework curator,
            Zk zk,
            KeyReads reads,
            Holdings holdings,
            String sessionId,
            LongSupplier zkSession) {
        this.curator = curator;
        this.zk = zk;
        this.reads = reads;
        this.holdings = holdings;
        this.sessionId = sessionId;
        this.zkSession = zkSession;
    }

    /**
     * Runs {@code txn}.
     *
     * @param labelled whether a refused op is named by branch and number ("then op 2: ...")
     */
    TxnResult run(Txn txn, boolean labelled) {
        for (Txn.Compare c : txn.compares()) {
            if (c instanceof Txn.Compare.Holder || c instanceof Txn.Compare.SessionAlive) {
                throw new UnsupportedFeatureException("the zookeeper provider cannot compare "
                        + (c instanceof Txn.Compare.Holder ? "a lock's holder" : "a session's liveness")
                        + " in a transaction: a multi checks single nodes, not a lock's queue or a session");
            }
        }
        List<String> names = new ArrayList<>();
        Map<Txn.Compare.Fence, String> grants = new HashMap<>();
        for (Txn.Compare c : txn.compares()) {
            if (c instanceof Txn.Compare.Fence f) {
                grants.put(f, holdings.pathOf(f.lock(), f.token()));
            } else {
                names.add(keyOf(c));
            }
        }
        txn.then().forEach(op -> names.add(op.key()));
        txn.otherwise().forEach(op -> names.add(op.key()));
        List<String> keys = names.stream().distinct().toList();
        List<String> paths =
                grants.values().stream().filter(p -> p != null).distinct().toList();
        for (int round = 0; round < ROUNDS; round++) {
            Set<String> present = new HashSet<>();
            Map<String, KeyNode> read = reads.read(keys, paths, present);
            Map<Txn.Compare.Fence, String> fences = new HashMap<>();
            grants.forEach((f, path) -> {
                if (path != null && present.contains(path)) {
                    fences.put(f, path);
                }
            });
            boolean holds = txn.compares().stream().allMatch(c -> holds(c, read, fences));
            KeyPlan plan = new KeyPlan(read, sessionId);
            List<Txn.Op> branch = holds ? txn.then() : txn.otherwise();
            List<TxnResult.OpResult> results = new ArrayList<>(branch.size());
            for (int i = 0; i < branch.size(); i++) {
                String label = labelled ? (holds ? "then" : "otherwise") + " op " + (i + 1) + ": " : "";
                results.add(plan.apply(branch.get(i), label));
            }
            TxnResult result = new TxnResult(holds, results);
            if ((plan.written().isEmpty() && fences.isEmpty()) || write(read, fences, plan)) {
                return result;
            }
        }
        throw new UnavailableException(
                "zookeeper: the keys of a transaction kept changing under it (" + ROUNDS + " rounds)");
    }

    private static String keyOf(Txn.Compare c) {
        if (c instanceof Txn.Compare.Version v) {
            return v.key();
        } else if (c instanceof Txn.Compare.Value v) {
            return v.key();
        }
        return ((Txn.Compare.Absent) c).key();
    }

    private static boolean holds(Txn.Compare c, Map<String, KeyNode> read, Map<Txn.Compare.Fence, String> fences) {
        if (c instanceof Txn.Compare.Version v) {
            KeyNode k = read.get(v.key());
            long version = k == null ? 0 : k.version();
            return switch (v.order()) {
                case EQUAL -> version == v.version();
                case NOT_EQUAL -> version != v.version();
                case LESS -> version < v.version();
                case GREATER -> version > v.version();
            };
        } else if (c instanceof Txn.Compare.Value v) {
            KeyNode k = read.get(v.key());
            return k != null && java.util.Arrays.equals(k.value(), v.value());
        } else if (c instanceof Txn.Compare.Absent a) {
            return read.get(a.key()) == null;
        }
        return fences.containsKey((Txn.Compare.Fence) c);
    }

    /** The round's writes, if nothing it read has changed; false when something has. */
    private boolean write(Map<String, KeyNode> read, Map<Txn.Compare.Fence, String> fences, KeyPlan plan) {
        List<CuratorOp> ops = new ArrayList<>();
        try {
            for (String path : new HashSet<>(fences.values())) {
                ops.add(curator.transactionOp().check().forPath(path));
            }
            for (var e : read.entrySet()) {
                String path = KeyNode.path(e.getKey());
                KeyNode was = e.getValue();
                boolean written = plan.written().containsKey(e.getKey());
                KeyPlan.Next next = plan.written().get(e.getKey());
                if (was != null && !written) {
                    ops.add(curator.transactionOp()
                            .check()
                            .withVersion(was.dataVersion())
                            .forPath(path));
                } else if (was == null && next == null) { // absent, and absent again: check by create and delete
                    ops.add(curator.transactionOp()
                            .create()
                            .withMode(CreateMode.PERSISTENT)
                            .forPath(path));
                    ops.add(curator.transactionOp().delete().forPath(path));
                } else if (next == null) {
                    ops.add(curator.transactionOp()
                            .delete()
                            .withVersion(was.dataVersion())
                            .forPath(path));
                } else {
                    byte[] data = KeyNode.data(next.version(), next.owner(), next.value());
                    if (was != null && inPlace(was, next)) {
                        ops.add(curator.transactionOp()
                                .setData()
                                .withVersion(was.dataVersion())
                                .forPath(path, data));
                    } else {
                        if (was != null) {
                            ops.add(curator.transactionOp()
                                    .delete()
                                    .withVersion(was.dataVersion())
                                    .forPath(path));
                        }
                        ops.add(create(path, data, next));
                    }
                }
            }
        } catch (Exception e) {
            throw Zk.unavailable("preparing the writes of a transaction", e);
        }
        CuratorEvent ev = zk.call(
                "writing the keys of a transaction",
                cb -> curator.transaction().inBackground(cb).forOperations(ops),
                Code.NONODE,
                Code.NODEEXISTS,
                Code.BADVERSION);
        return Zk.code(ev) == Code.OK;
    }

    /** Whether the node {@code was} can take the key's next state by a {@code setData}. */
    private boolean inPlace(KeyNode was, KeyPlan.Next next) {
        return switch (next.life()) {
            case KEEP -> true;
            case PERSISTENT -> was.ephemeralOwner() == 0;
            case ATTACHED -> was.ephemeralOwner() == zkSession.getAsLong() && !was.ttlNode();
            case TTL -> false; // a new node: its time to live counts from this write
        };
    }

    private CuratorOp create(String path, byte[] data, KeyPlan.Next next) throws Exception {
        return switch (next.life()) {
            case ATTACHED ->
                curator.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(path, data);
            case TTL ->
                curator.transactionOp()
                        .create()
                        .withTtl(next.ttl().toMillis())
                        .withMode(CreateMode.PERSISTENT_WITH_TTL)
                        .forPath(path, data);
            case PERSISTENT, KEEP ->
                curator.transactionOp().create().withMode(CreateMode.PERSISTENT).forPath(path, data);
        };
    }
}
