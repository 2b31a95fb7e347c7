package io.holdfast.zookeeper;

import io.holdfast.UnavailableException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;

/**
 * Reads of keys ({@link KeyNode}) that see one point: a {@code sync} (so the server the client talks
 * to has applied every write the leader committed before it), then one read-only {@code multi} of
 * every node, which the server answers without a write in between.
 */
final class KeyReads {
    private final CuratorFramework curator;
    private final Zk zk;

    KeyReads(CuratorFramework curator, Zk zk) {
        this.curator = curator;
        this.zk = zk;
    }

    /** A node other than a key's, as read: its data and data version. */
    record Node(byte[] data, int dataVersion) {}

    /** The keys named, each null when absent, read at one point. */
    Map<String, KeyNode> read(List<String> keys) {
        sync();
        return readNow(keys, List.of(), new HashMap<>());
    }

    /**
     * The keys named, each null when absent, and those of {@code paths} (other nodes) that exist,
     * put in {@code present}, all read at one point after a sync.
     */
    Map<String, KeyNode> read(List<String> keys, List<String> paths, Map<String, Node> present) {
        sync();
        return readNow(keys, paths, present);
    }

    /** The keys named, read at one point, without a sync first (after {@link #names()}, which made one). */
    Map<String, KeyNode> readNow(List<String> keys) {
        return readNow(keys, List.of(), new HashMap<>());
    }

    /** Those of {@code paths} that exist, read at one point without a sync first. */
    Map<String, Node> nodes(List<String> paths) {
        Map<String, Node> present = new HashMap<>();
        readNow(List.of(), paths, present);
        return present;
    }

    private Map<String, KeyNode> readNow(List<String> keys, List<String> paths, Map<String, Node> present) {
        List<Op> ops = new ArrayList<>(keys.size() + paths.size());
        String root = root();
        keys.forEach(k -> ops.add(Op.getData(root + KeyNode.path(k))));
        paths.forEach(p -> ops.add(Op.getData(root + p)));
        List<OpResult> results = multi(ops);
        for (int i = 0; i < paths.size(); i++) {
            if (results.get(keys.size() + i) instanceof OpResult.GetDataResult r) {
                present.put(paths.get(i), new Node(r.getData(), r.getStat().getVersion()));
            }
        }
        Map<String, KeyNode> found = new HashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String k = keys.get(i);
            KeyNode node = null;
            if (results.get(i) instanceof OpResult.GetDataResult r) {
                node = KeyNode.decode(QueueNode.encode(k), r.getData(), r.getStat());
            }
            found.put(k, node);
        }
        return found;
    }

    /** Keys in the byte order of their UTF-8. */
    static final Comparator<String> BY_UTF8 =
            (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    /** How many times a listing is read again because keys came or went between its two reads. */
    private static final int LIST_ROUNDS = 16;

    /**
     * Up to {@code limit} keys under {@code prefix} after {@code after} (all of them: {@code
     * Integer.MAX_VALUE}) in byte order of their UTF-8, read at one point: the children of {@link
     * KeyNode#KEYS} are read, then read again in one read-only multi with the data of the page's
     * nodes, and the page stands if the children did not change in between.
     *
     * @param more set to true when more keys match after the page
     */
    List<KeyNode> list(String prefix, String after, int limit, boolean[] more) {
        sync();
        String root = root();
        List<String> children =
                children(multi(List.of(Op.getChildren(root + KeyNode.KEYS))).get(0));
        for (int round = 0; round < LIST_ROUNDS; round++) {
            List<String> page = children.stream()
                    .map(KeyReads::decodeOrNull)
                    .filter(k ->
                            k != null && k.startsWith(prefix) && (after.isEmpty() || BY_UTF8.compare(k, after) > 0))
                    .sorted(BY_UTF8)
                    .limit(limit == Integer.MAX_VALUE ? limit : limit + 1L)
                    .toList();
            List<Op> ops = new ArrayList<>(page.size() + 1);
            ops.add(Op.getChildren(root + KeyNode.KEYS));
            page.stream().limit(limit).forEach(k -> ops.add(Op.getData(root + KeyNode.path(k))));
            List<OpResult> results = multi(ops);
            List<String> now = children(results.get(0));
            if (new HashSet<>(now).equals(new HashSet<>(children))) {
                more[0] = page.size() > limit;
                List<KeyNode> found = new ArrayList<>();
                for (int i = 1; i < results.size(); i++) {
                    if (results.get(i) instanceof OpResult.GetDataResult r) {
                        KeyNode node = KeyNode.decode(QueueNode.encode(page.get(i - 1)), r.getData(), r.getStat());
                        if (node != null) {
                            found.add(node);
                        }
                    }
                }
                return found;
            }
            children = now;
        }
        throw new UnavailableException("zookeeper: the keys under " + prefix + " kept changing while listed");
    }

    private static List<String> children(OpResult r) {
        return r instanceof OpResult.GetChildrenResult c ? c.getChildren() : List.of();
    }

    private static String decodeOrNull(String child) {
        try {
            return QueueNode.decode(child);
        } catch (IllegalArgumentException notOurs) {
            return null;
        }
    }

    private String root() {
        String ns = curator.getNamespace();
        return ns == null || ns.isEmpty() ? "" : "/" + ns;
    }

    private void sync() {
        zk.call("syncing with the leader", cb -> curator.sync().inBackground(cb).forPath(KeyNode.KEYS), Code.NONODE);
    }

    private List<OpResult> multi(List<Op> ops) {
        if (ops.isEmpty()) {
            return List.of();
        }
        try {
            return curator.getZookeeperClient().getZooKeeper().multi(ops);
        } catch (KeeperException e) {
            throw new UnavailableException("zookeeper: reading keys failed: " + e.code(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("zookeeper: interrupted while reading keys", e);
        } catch (Exception e) {
            throw Zk.unavailable("reading keys", e);
        }
    }
}
