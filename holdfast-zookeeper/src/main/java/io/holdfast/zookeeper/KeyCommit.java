package io.holdfast.zookeeper;

import io.holdfast.Counters;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnavailableException;
import io.holdfast.store.KeyPlay;
import io.holdfast.store.KeyRules;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 * <p><b>How.</b> One round: (1) every key a compare or op names, the node of every grant a {@link
 * Txn.Compare.Fence} names, and the count of keys attached to this client's ZooKeeper session
 * ({@link KeyNode#ATTACHED}), read at one point ({@link KeyReads}); (2) the compares evaluated on
 * that read, the branch chosen, and its ops played on a copy of it ({@link KeyPlay}, storing keys as
 * {@link KeyPlan} says), which checks each op's expected version and the limit of keys per session,
 * and answers its result; (3) one {@code multi} that fails unless everything read is as it was
 * read: a node read is checked at its data version ({@code check}, or the {@code setData}/{@code
 * delete} that writes it, which take the version); a key read absent is created by the write, or
 * else created and deleted again in the same multi (ZooKeeper has no check of absence); a fence's
 * grant node is checked; a count the round changes is set at the data version read, or created. If
 * the multi fails, something read changed, and the round starts again. So the compares, the choice
 * and the writes all hold at the multi: one step. A branch that writes nothing and compares no
 * fence is answered from the read, at its point.
 *
 * <p><b>Keys per session.</b> An attached key is an ephemeral node of the client's ZooKeeper
 * session; beside the keys, an ephemeral node of that session counts them, which every write that
 * attaches, detaches or deletes such a key changes in the same multi, at the data version read: two
 * writers of one session cannot both take the last place, and the count goes with the session, in
 * the same step as its keys. A count another session's key needs (its key deleted or overwritten
 * here) is read after the play, before the multi.
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
    private final int perSession;

    /** @param perSession the most keys attached to one session ({@link io.holdfast.Keys#MAX_KEYS_PER_SESSION}) */
    KeyCommit(
            CuratorFramework curator,
            Zk zk,
            KeyReads reads,
            Holdings holdings,
            String sessionId,
            LongSupplier zkSession,
            int perSession) {
        this.curator = curator;
        this.zk = zk;
        this.reads = reads;
        this.holdings = holdings;
        this.sessionId = sessionId;
        this.zkSession = zkSession;
        this.perSession = perSession;
    }

    /**
     * Runs {@code txn}.
     *
     * @param labelled whether a refused op is named by branch and number ("then op 2: ...")
     */
    TxnResult run(Txn txn, boolean labelled) {
        KeyRules.refuseSessionCompares(
                txn, "zookeeper", "a multi checks single nodes, not a lock's queue or a session");
        Map<Txn.Compare.Fence, String> grants = new HashMap<>();
        for (Txn.Compare c : txn.compares()) {
            if (c instanceof Txn.Compare.Fence f) {
                grants.put(f, holdings.pathOf(f.lock(), f.token()));
            }
        }
        List<String> keys = KeyRules.keysNamed(txn);
        boolean writes = java.util.stream.Stream.concat(txn.then().stream(), txn.otherwise().stream())
                .anyMatch(op -> op instanceof Txn.Op.Put || op instanceof Txn.Op.Delete);
        for (int round = 0; round < ROUNDS; round++) {
            long own = writes ? zkSession.getAsLong() : 0;
            List<String> paths = new ArrayList<>(
                    grants.values().stream().filter(p -> p != null).distinct().toList());
            if (own != 0) {
                paths.add(KeyNode.attached(own));
            }
            Map<String, KeyReads.Node> present = new HashMap<>();
            Map<String, KeyNode> read = reads.read(keys, paths, present);
            Map<Txn.Compare.Fence, String> fences = new HashMap<>();
            grants.forEach((f, path) -> {
                if (path != null && present.containsKey(path)) {
                    fences.put(f, path);
                }
            });
            Map<Long, KeyReads.Node> counts = new HashMap<>();
            if (own != 0) {
                counts.put(own, present.get(KeyNode.attached(own)));
            }
            KeyPlan plan = new KeyPlan(sessionId, own);
            KeyPlay<KeyPlan.Next> play = new KeyPlay<>(
                    KeyPlan.of(read), plan, new KeyPlay.Attached(own, count(counts.get(own)), sessionId, perSession));
            TxnResult result = play.run(txn, fences::containsKey, labelled);
            if ((play.written().isEmpty() && fences.isEmpty()) || write(read, fences, play, counts, own)) {
                return result;
            }
        }
        throw new UnavailableException(
                "zookeeper: the keys of a transaction kept changing under it (" + ROUNDS + " rounds)");
    }

    private static long count(KeyReads.Node node) {
        return node == null ? 0 : KeyRules.counterOf(node.data());
    }

    /** The round's writes, if nothing it read has changed; false when something has. */
    private boolean write(
            Map<String, KeyNode> read,
            Map<Txn.Compare.Fence, String> fences,
            KeyPlay<KeyPlan.Next> play,
            Map<Long, KeyReads.Node> counts,
            long own) {
        Map<Long, Long> changes = play.attachedChanges();
        List<Long> unread =
                changes.keySet().stream().filter(id -> !counts.containsKey(id)).toList();
        if (!unread.isEmpty()) { // another session's keys: their counts change too
            Map<String, KeyReads.Node> got =
                    reads.nodes(unread.stream().map(KeyNode::attached).toList());
            unread.forEach(id -> counts.put(id, got.get(KeyNode.attached(id))));
        }
        List<CuratorOp> ops = new ArrayList<>();
        try {
            for (String path : new HashSet<>(fences.values())) {
                ops.add(curator.transactionOp().check().forPath(path));
            }
            for (var e : changes.entrySet()) {
                counted(ops, e.getKey(), counts.get(e.getKey()), e.getValue(), own);
            }
            for (var e : read.entrySet()) {
                written(ops, e.getKey(), e.getValue(), play.written(), own);
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

    /**
     * The op that changes the count of keys attached to ZooKeeper session {@code id} by {@code by}:
     * a set of the data at the version read, a delete at 0, or the creation of this client's (an
     * ephemeral node, which fails if another writer made it meanwhile). Another session's count that
     * is absent stays absent.
     */
    private void counted(List<CuratorOp> ops, long id, KeyReads.Node was, long by, long own) throws Exception {
        String path = KeyNode.attached(id);
        long now = Math.max(0, count(was) + by);
        if (was == null) {
            if (now > 0 && id == own) {
                ops.add(curator.transactionOp()
                        .create()
                        .withMode(CreateMode.EPHEMERAL)
                        .forPath(path, Counters.encode(now)));
            }
        } else if (now == 0) {
            ops.add(curator.transactionOp()
                    .delete()
                    .withVersion(was.dataVersion())
                    .forPath(path));
        } else {
            ops.add(curator.transactionOp()
                    .setData()
                    .withVersion(was.dataVersion())
                    .forPath(path, Counters.encode(now)));
        }
    }

    /** The ops that write key {@code key} as the play left it, on condition that it is as read ({@code was}). */
    private void written(List<CuratorOp> ops, String key, KeyNode was, Map<String, KeyPlan.Next> written, long own)
            throws Exception {
        String path = KeyNode.path(key);
        KeyPlan.Next next = written.get(key);
        if (was != null && !written.containsKey(key)) {
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
            if (was != null && inPlace(was, next, own)) {
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

    /** Whether the node {@code was} can take the key's next state by a {@code setData}. */
    private static boolean inPlace(KeyNode was, KeyPlan.Next next, long own) {
        return switch (next.life()) {
            case KEEP -> true;
            case PERSISTENT -> was.ephemeralOwner() == 0;
            case ATTACHED -> was.ephemeralOwner() == own && !was.ttlNode();
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
