package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.holdfast.WatchTarget;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys of one client's namespace {@code NS}: every entry of lock {@code name} is the key {@code
 * NS + name + NUL + owner}, so the entries of one name share a prefix and the names under a prefix
 * share {@code NS + prefix}; a register's key is {@link EtcdRegisters#key}'s. Names are UTF-8 and
 * hold no NUL, so no name's entries fall under another name's prefix.
 */
final class EtcdKeys {
    private final byte[] namespace;

    EtcdKeys(byte[] namespace) {
        this.namespace = namespace;
    }

    byte[] namespace() {
        return namespace;
    }

    /**
     * {@code 0x01 TAG 0x00 NAMESPACE 0x00}: where the records of kind {@code tag} (registers, keys)
     * of a namespace start, which no lock key can (a namespace has no control characters).
     */
    static byte[] area(String tag, byte[] namespace) {
        byte[] head = ("\u0001" + tag + "\u0000").getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[head.length + namespace.length + 1];
        System.arraycopy(head, 0, p, 0, head.length);
        System.arraycopy(namespace, 0, p, head.length, namespace.length);
        return p;
    }

    /** The prefix of every entry of lock {@code name}: {@code NS + name + NUL}. */
    ByteSequence prefix(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[namespace.length + n.length + 1];
        System.arraycopy(namespace, 0, p, 0, namespace.length);
        System.arraycopy(n, 0, p, namespace.length, n.length);
        p[p.length - 1] = (byte) Entry.SEPARATOR;
        return ByteSequence.from(p);
    }

    /** The entry of {@code owner} in the queue of lock {@code name}. */
    ByteSequence key(String name, String owner) {
        return prefix(name).concat(ByteSequence.from(owner, StandardCharsets.UTF_8));
    }

    /** {@code NS + namePrefix}: where the keys of every name under {@code namePrefix} start. */
    ByteSequence under(String namePrefix) {
        byte[] p = namePrefix.getBytes(StandardCharsets.UTF_8);
        byte[] c = new byte[namespace.length + p.length];
        System.arraycopy(namespace, 0, c, 0, namespace.length);
        System.arraycopy(p, 0, c, namespace.length, p.length);
        return ByteSequence.from(c);
    }

    /** The key of a lock's entries (a prefix), of every lock under a prefix, of a register, or of keys under a prefix. */
    ByteSequence watched(WatchTarget target) {
        return switch (target.kind()) {
            case LOCK -> prefix(target.name());
            case PREFIX -> under(target.name());
            case REGISTER -> EtcdRegisters.key(namespace, target.name());
            case KEYS -> KeySpace.key(namespace, target.name());
        };
    }

    /** A read of every key under a prefix, oldest first: a queue in its order. */
    static GetOption byCreation() {
        return GetOption.builder()
                .isPrefix(true)
                .withSortField(GetOption.SortTarget.CREATE)
                .withSortOrder(GetOption.SortOrder.ASCEND)
                .build();
    }

    /** The entries among {@code kvs}, whose owners start at {@code prefixLength}; others are skipped. */
    static List<Entry> decode(List<KeyValue> kvs, int prefixLength) {
        List<Entry> entries = new ArrayList<>(kvs.size());
        for (var kv : kvs) {
            Entry e = Entry.decode(kv, prefixLength);
            if (e != null) {
                entries.add(e);
            }
        }
        return entries;
    }
}
