package io.holdfast.zookeeper;

import io.holdfast.ConflictException;
import io.holdfast.ExpectedVersions;
import io.holdfast.Versioned;
import io.holdfast.store.Grant;
import io.holdfast.store.StoreRegisters;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;

/**
 * Registers in ZooKeeper: one persistent node per key, {@code CHROOT/registers/ENCODED-KEY}, apart
 * from the locks' queues, with the same ACLs as every node of the client.
 *
 * <p><b>What it guarantees.</b> The register's version is its node's data version plus one (the
 * create makes version 1). The first write is a create, later ones a {@code setData} with the
 * expected version, so ZooKeeper refuses a stale write itself. A fenced write is one {@code multi}:
 * a {@code check} that the grant's own queue node still exists (it lives exactly as long as the grant:
 * released, revoked or its session expired, it is gone) and the write, applied together or not at
 * all.
 *
 * <p><b>What it does not guarantee.</b> A write whose answer is lost with the connection is not
 * retried and may have been applied; read the register to find out.
 */
final class ZooKeeperRegisters implements StoreRegisters {
    static final String REGISTERS = "/registers";

    private final CuratorFramework curator;
    private final Zk zk;
    private volatile boolean parentMade;

    ZooKeeperRegisters(CuratorFramework curator, Zk zk) {
        this.curator = curator;
        this.zk = zk;
    }

    /** The node of register {@code key}. */
    static String path(String key) {
        return REGISTERS + "/" + QueueNode.encode(key);
    }

    @Override
    public Optional<Versioned> read(String key) {
        String path = path(key);
        CuratorEvent ev = zk.call(
                "reading register " + key,
                cb -> curator.getData().inBackground(cb).forPath(path),
                Code.NONODE);
        if (Zk.code(ev) == Code.NONODE) {
            return Optional.empty();
        }
        return Optional.of(new Versioned(key, ev.getStat().getVersion() + 1L, ev.getData()));
    }

    @Override
    public Versioned write(String key, long expectedVersion, byte[] value, Grant fence) throws ConflictException {
        if (expectedVersion == 0) {
            makeParent();
        }
        String path = path(key);
        List<CuratorOp> ops = new ArrayList<>(2);
        try {
            if (fence != null) {
                ops.add(curator.transactionOp().check().forPath((String) fence.handle()));
            }
            ops.add(
                    expectedVersion == 0
                            ? curator.transactionOp()
                                    .create()
                                    .withMode(CreateMode.PERSISTENT)
                                    .forPath(path, value)
                            : curator.transactionOp()
                                    .setData()
                                    .withVersion((int) (expectedVersion - 1))
                                    .forPath(path, value));
        } catch (Exception e) {
            throw Zk.unavailable("preparing the write of register " + key, e);
        }
        CuratorEvent ev = zk.call(
                "writing register " + key,
                cb -> curator.transaction().inBackground(cb).forOperations(ops),
                Code.NONODE,
                Code.NODEEXISTS,
                Code.BADVERSION);
        if (Zk.code(ev) == Code.OK) {
            return new Versioned(key, expectedVersion + 1, value);
        }
        long found = read(key).map(Versioned::version).orElse(0L);
        if (fence != null && failed(ev.getOpResults(), 0)) {
            throw new ConflictException(
                    "fencing token " + fence.token() + " is no longer a current grant of "
                            + fence.request().name(),
                    found);
        }
        throw ExpectedVersions.conflict(key, expectedVersion, found);
    }

    /** Whether operation {@code index} of a failed multi is the one that failed. */
    private static boolean failed(List<CuratorTransactionResult> results, int index) {
        if (results == null || results.size() <= index) {
            return false;
        }
        int error = results.get(index).getError();
        return error != Code.OK.intValue() && error != Code.RUNTIMEINCONSISTENCY.intValue();
    }

    /** Creates {@code /registers} once; a persistent node, so it never vanishes under a create. */
    private void makeParent() {
        if (parentMade) {
            return;
        }
        zk.call(
                "creating " + REGISTERS,
                cb -> curator.create()
                        .withMode(CreateMode.PERSISTENT)
                        .inBackground(cb)
                        .forPath(REGISTERS),
                Code.NODEEXISTS);
        parentMade = true;
    }
}
