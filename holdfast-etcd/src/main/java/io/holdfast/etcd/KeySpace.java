package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;

/**
 * Where the keys ({@link EtcdKeyValues}) of one namespace live in etcd: key {@code K} is {@code
 * 0x01 "keys" 0x00 NAMESPACE 0x00 K}, which no lock key (a namespace has no control characters)
 * and no register key can start with. etcd orders keys by their bytes, so the keys of one prefix
 * are one range, in byte order of their UTF-8.
 *
 * <p>How many keys are attached to a session lease is the etcd key {@code 0x01 "attached" 0x00
 * NAMESPACE 0x00 LEASE} (the lease's id in 16 hex digits), whose value is the count (8 bytes,
 * big-endian): it lives on that lease, so it goes in the same step as the keys it counts, and it is
 * absent when the count is 0.
 */
final class KeySpace {
    private final byte[] prefix;
    private final byte[] attachedPrefix;

    KeySpace(byte[] namespace) {
        this.prefix = prefix(namespace);
        this.attachedPrefix = EtcdKeys.area("attached", namespace);
    }

    /** The etcd key that counts the keys attached to session lease {@code lease}. */
    ByteSequence attached(long lease) {
        return under(attachedPrefix, String.format("%016x", lease));
    }

    private static byte[] prefix(byte[] namespace) {
        return EtcdKeys.area("keys", namespace);
    }

    /** The etcd key of key {@code name}; of every key under it, as a prefix. */
    ByteSequence key(String name) {
        return under(prefix, name);
    }

    /** The etcd key of key (or prefix) {@code name} under {@code namespace} (what a watch follows). */
    static ByteSequence key(byte[] namespace, String name) {
        return under(prefix(namespace), name);
    }

    private static ByteSequence under(byte[] prefix, String name) {
        return ByteSequence.from(prefix).concat(ByteSequence.from(name, StandardCharsets.UTF_8));
    }

    /** The key {@code kv} holds, or null when it is not one of ours. */
    StoredKey decode(KeyValue kv) {
        return StoredKey.decode(kv, prefix.length);
    }
}
