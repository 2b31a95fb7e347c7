package io.holdfast.zookeeper;

import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnavailableException;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.internal.PollingFeed;
import io.holdfast.internal.WatchRunner;
import io.holdfast.store.StoreKeys;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;

/**
 * The keys of a ZooKeeper client ({@link io.holdfast.LockClient#keys()}): one node per key under
 * {@code CHROOT/keys} ({@link KeyNode}). Arguments and capabilities were checked before ({@code
 * Handles.keys}).
 *
 * <ul>
 *   <li>A read is a {@code sync} and a read-only {@code multi} ({@link KeyReads}); a list reads the
 *       children of {@code /keys} and the page's nodes at one point, sorted here in byte order of
 *       the keys' UTF-8 (ZooKeeper gives children in no order); its position is "" (ZooKeeper's
 *       watches carry no order of changes to resume from).
 *   <li>Every write, and an add, is a transaction of one op ({@link StoreKeys}, {@link
 *       KeyCommit}). ZooKeeper has no add: a counter's add is that compare-and-set loop, run here,
 *       not by the caller.
 *   <li>An attached key is an ephemeral node of the client's ZooKeeper session, which is its
 *       Holdfast session: the server deletes it when the session is closed or expires. A key with a
 *       time to live is a TTL node ({@code PERSISTENT_WITH_TTL}, only where the server has {@code
 *       zookeeper.extendedTypesEnabled=true}); the server deletes it once its time to live has
 *       passed since its last write, at its next check of TTL nodes ({@code
 *       znode.container.checkIntervalMs}, a minute by default), so it may live that much longer.
 *   <li>A watch reads the keys under its prefix whenever ZooKeeper's watch of {@code /keys} fires
 *       (and at least every {@link PollingFeed#INTERVAL}) and reports what changed between two
 *       reads ({@link KeyFeed}).
 * </ul>
 */
final class ZooKeeperKeys extends StoreKeys {
    private final KeyReads reads;
    private final KeyCommit commits;
    private final PollingFeed.Wakeup wakeup;
    private final BooleanSupplier open;
    private final ScheduledExecutorService timers;

    private ZooKeeperKeys(
            KeyReads reads,
            KeyCommit commits,
            PollingFeed.Wakeup wakeup,
            BooleanSupplier open,
            String sessionId,
            ScheduledExecutorService timers) {
        super(sessionId);
        this.reads = reads;
        this.commits = commits;
        this.wakeup = wakeup;
        this.open = open;
        this.timers = timers;
    }

    /**
     * The keys of the client on {@code curator}, whose Holdfast session is {@code sessionId}, with
     * at most {@code perSession} attached to it, whose watches time their pauses after a failed
     * read on {@code timers}.
     */
    static ZooKeeperKeys of(
            CuratorFramework curator,
            Zk zk,
            Holdings holdings,
            PollingFeed.Wakeup wakeup,
            BooleanSupplier notCrashed,
            String sessionId,
            int perSession,
            ScheduledExecutorService timers) {
        KeyReads reads = new KeyReads(curator, zk);
        LongSupplier zkSession = () -> {
            ZooKeeper handle = Holdings.handle(curator);
            return handle == null ? 0 : handle.getSessionId();
        };
        KeyCommit commits = new KeyCommit(curator, zk, reads, holdings, sessionId, zkSession, perSession);
        BooleanSupplier open = () -> notCrashed.getAsBoolean() && curator.getState() == CuratorFrameworkState.STARTED;
        return new ZooKeeperKeys(reads, commits, wakeup, open, sessionId, timers);
    }

    /**
     * Creates {@code /keys} if it is not there, and finds out whether the server makes TTL nodes: one
     * {@code multi} that creates a TTL node under it and deletes it again, which a server without
     * {@code zookeeper.extendedTypesEnabled=true} refuses (UNIMPLEMENTED) and leaves nothing behind.
     */
    static boolean prepare(CuratorFramework curator, Zk zk, String sessionId) {
        try {
            return makeKeysNode(curator, zk, sessionId);
        } catch (io.holdfast.PermissionDeniedException e) {
            return false; // the chroot is another user's: every key call will say so (NOAUTH)
        }
    }

    private static boolean makeKeysNode(CuratorFramework curator, Zk zk, String sessionId) {
        zk.call(
                "creating " + KeyNode.KEYS,
                cb -> curator.create()
                        .creatingParentsIfNeeded()
                        .withMode(CreateMode.PERSISTENT)
                        .inBackground(cb)
                        .forPath(KeyNode.KEYS),
                Code.NODEEXISTS);
        zk.call(
                "creating " + KeyNode.ATTACHED,
                cb -> curator.create()
                        .withMode(CreateMode.PERSISTENT)
                        .inBackground(cb)
                        .forPath(KeyNode.ATTACHED),
                Code.NODEEXISTS);
        String probe = KeyNode.KEYS + "/.ttl-probe." + sessionId;
        try {
            var create = curator.transactionOp()
                    .create()
                    .withTtl(60_000)
                    .withMode(CreateMode.PERSISTENT_WITH_TTL)
                    .forPath(probe);
            var delete = curator.transactionOp().delete().forPath(probe);
            var ev = zk.call(
                    "finding out whether the server makes TTL nodes",
                    cb -> curator.transaction().inBackground(cb).forOperations(create, delete),
                    Code.UNIMPLEMENTED);
            return Zk.code(ev) == Code.OK;
        } catch (UnavailableException e) {
            throw e;
        } catch (Exception e) {
            throw Zk.unavailable("preparing the probe of TTL nodes", e);
        }
    }

    @Override
    public Optional<KeyEntry> get(String key) {
        return Optional.ofNullable(reads.read(List.of(key)).get(key)).map(KeyNode::entry);
    }

    @Override
    public KeyListing list(String prefix, String after, int limit) {
        boolean[] more = new boolean[1];
        List<KeyEntry> entries = reads.list(prefix, after, limit, more).stream()
                .map(KeyNode::entry)
                .toList();
        return new KeyListing(entries, more[0], "");
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        WatchTarget target = WatchTarget.keys(prefix);
        return WatchRunner.start(
                new KeyFeed(reads, wakeup),
                target,
                listener,
                open,
                DaemonThreads.threadPerTask("holdfast-watch " + target),
                timers);
    }

    /** One {@code multi}'s round ({@link KeyCommit}), for a single write as for a commit. */
    @Override
    protected TxnResult run(Txn txn, boolean single) {
        return commits.run(txn, !single);
    }
}
