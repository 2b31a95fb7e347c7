package io.holdfast.zookeeper;

import io.holdfast.KeyEntry;
import io.holdfast.store.KeyPlay;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.data.Stat;

/**
 * One key of {@link ZooKeeperKeys} as stored: the node {@code CHROOT/keys/ENCODED-KEY} (one flat
 * level: a key may hold {@code /}, which {@link QueueNode#encode} escapes), whose data is a header
 * and the key's value: a format byte (1), the key's version (8 bytes, big-endian), the owner's
 * session id (2 bytes of length, then its UTF-8; length 0 for none), then the value's bytes. The
 * version is kept in the data rather than taken from the node's data version because a put that
 * changes a key's lifetime (persistent, ephemeral, TTL) makes a new node, whose data version starts
 * again at 0.
 *
 * @param version 1 at the first write after the key was absent, one more with each write
 * @param owner the session the key is attached to; null when none
 * @param dataVersion the node's data version: what a transaction checks to know that the node has
 *     not changed since it was read
 * @param ephemeralOwner the node's {@link Stat#getEphemeralOwner()}: 0 for a persistent node, the
 *     ZooKeeper session of an ephemeral one, a TTL's marker for a TTL node
 */
record KeyNode(String key, long version, byte[] value, String owner, int dataVersion, long ephemeralOwner)
        implements KeyPlay.Stored {
    static final String KEYS = "/keys";
    /**
     * The parent of the counts of attached keys: {@code ATTACHED/SESSION} (the ZooKeeper session's
     * id in 16 hex digits) is an ephemeral node of that session whose data is how many keys are
     * attached to it (8 bytes, big-endian), absent when none are.
     */
    static final String ATTACHED = "/attached";

    private static final byte FORMAT = 1;
    private static final int HEADER = 1 + Long.BYTES + Short.BYTES;

    /** The node of key {@code key}. */
    static String path(String key) {
        return KEYS + "/" + QueueNode.encode(key);
    }

    /** The node that counts the keys attached to ZooKeeper session {@code zkSession}. */
    static String attached(long zkSession) {
        return ATTACHED + "/" + String.format("%016x", zkSession);
    }

    /** The node's data for a key at {@code version}. */
    static byte[] data(long version, String owner, byte[] value) {
        byte[] o = owner == null ? new byte[0] : owner.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(HEADER + o.length + value.length);
        b.put(FORMAT).putLong(version).putShort((short) o.length).put(o).put(value);
        return b.array();
    }

    /** The key in node {@code name} (a child of {@link #KEYS}), or null when it is not one of ours. */
    static KeyNode decode(String name, byte[] data, Stat stat) {
        String key;
        try {
            key = QueueNode.decode(name);
        } catch (IllegalArgumentException notOurs) {
            return null;
        }
        if (data == null || data.length < HEADER || data[0] != FORMAT) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(data, 1, data.length - 1);
        long version = b.getLong();
        int ownerLength = Short.toUnsignedInt(b.getShort());
        if (version < 1 || b.remaining() < ownerLength) {
            return null;
        }
        String owner = ownerLength == 0 ? null : new String(data, HEADER, ownerLength, StandardCharsets.UTF_8);
        byte[] value = new byte[data.length - HEADER - ownerLength];
        System.arraycopy(data, HEADER + ownerLength, value, 0, value.length);
        return new KeyNode(key, version, value, owner, stat.getVersion(), stat.getEphemeralOwner());
    }

    /**
     * Whether the node is a TTL node (deleted by the server when its time to live passes): ZooKeeper
     * marks one with an ephemeral owner whose top byte is 0xFF ({@code EphemeralType.TTL}).
     */
    boolean ttlNode() {
        return (ephemeralOwner >>> 56) == 0xFF;
    }

    /** An attached key counts against the ZooKeeper session of its ephemeral node; 0 for any other. */
    @Override
    public long attachment() {
        return owner == null || ephemeralOwner == 0 || ttlNode() ? 0 : ephemeralOwner;
    }

    KeyEntry entry() {
        return new KeyEntry(key, version, value, owner);
    }
}
