package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.holdfast.KeyEntry;
import io.holdfast.store.KeyPlay;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One key of {@link EtcdKeyValues} as stored in etcd. The etcd key is {@code 0x01 "keys" 0x00
 * NAMESPACE 0x00 KEY}; the etcd value is a header and the key's value: a format byte (1), the
 * key's version (8 bytes, big-endian), the owner's session id (2 bytes of length, then its UTF-8;
 * length 0 for none), then the value's bytes. The version is kept in the value rather than taken
 * from etcd's per-key version so that it grows by one with every write of a transaction, even two
 * writes of one key that reach etcd as one put.
 *
 * @param version 1 at the first write after the key was absent, one more with each write
 * @param owner the session the key is attached to; null when none
 * @param modRevision etcd's revision of the key's last write: what a transaction compares to know
 *     that the key has not changed since it was read (0: absent)
 * @param lease the etcd lease the key lives on (0: none)
 */
record StoredKey(String key, long version, byte[] value, String owner, long modRevision, long lease)
        implements KeyPlay.Stored {
    private static final byte FORMAT = 1;
    private static final int HEADER = 1 + Long.BYTES + Short.BYTES;

    /** The etcd value of this key. */
    ByteSequence encode() {
        byte[] o = owner == null ? new byte[0] : owner.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(HEADER + o.length + value.length);
        b.put(FORMAT).putLong(version).putShort((short) o.length).put(o).put(value);
        return ByteSequence.from(b.array());
    }

    /**
     * Decodes {@code kv}, whose key starts at {@code prefixLength}, or returns null for a value that
     * is not one of ours (an operator's stray key): it is then ignored, not trusted.
     */
    static StoredKey decode(KeyValue kv, int prefixLength) {
        byte[] raw = kv.getValue().getBytes();
        if (raw.length < HEADER || raw[0] != FORMAT) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(raw, 1, raw.length - 1);
        long version = b.getLong();
        int ownerLength = Short.toUnsignedInt(b.getShort());
        if (version < 1 || b.remaining() < ownerLength) {
            return null;
        }
        String owner = ownerLength == 0 ? null : new String(raw, HEADER, ownerLength, StandardCharsets.UTF_8);
        byte[] value = new byte[raw.length - HEADER - ownerLength];
        System.arraycopy(raw, HEADER + ownerLength, value, 0, value.length);
        String key = kv.getKey().substring(prefixLength).toString(StandardCharsets.UTF_8);
        return new StoredKey(key, version, value, owner, kv.getModRevision(), kv.getLease());
    }

    /** An attached key counts against its session lease ({@link KeySpace#attached}); 0 for any other. */
    @Override
    public long attachment() {
        return owner == null ? 0 : lease;
    }

    KeyEntry entry() {
        return new KeyEntry(key, version, value, owner);
    }
}
