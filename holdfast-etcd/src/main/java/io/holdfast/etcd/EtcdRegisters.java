package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.holdfast.ConflictException;
import io.holdfast.ExpectedVersions;
import io.holdfast.Versioned;
import io.holdfast.store.Grant;
import io.holdfast.store.StoreRegisters;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Registers in etcd: one key per register, attached to no lease (a register outlives its writer),
 * under {@code 0x01 "registers" 0x00 NAMESPACE 0x00 KEY}, which no lock key can start with (a
 * namespace has no control characters).
 *
 * <p><b>What it guarantees.</b> etcd's own per-key version is the register's version (1 when
 * created, one more per put), so a write is one transaction: {@code If(version(key) == expected)}
 * and, for a fenced write, {@code If(createRevision(grant's key) == its creation)}: the grant's key
 * exists exactly as long as the grant (released, revoked, or its lease expired, etcd deletes it).
 * {@code Then} puts the value; {@code Else} reads the register and the grant's key, to say which
 * condition failed.
 *
 * <p><b>What it does not guarantee.</b> A write whose answer is lost is not retried and may have
 * been applied; read the register to find out.
 */
final class EtcdRegisters implements StoreRegisters {
    private final KV kv;
    private final Calls calls;
    private final byte[] prefix;

    EtcdRegisters(KV kv, Calls calls, byte[] namespace) {
        this.kv = kv;
        this.calls = calls;
        this.prefix = prefix(namespace);
    }

    private static byte[] prefix(byte[] namespace) {
        return EtcdKeys.area("registers", namespace);
    }

    private ByteSequence key(String name) {
        return under(prefix, name);
    }

    private static ByteSequence under(byte[] prefix, String name) {
        return ByteSequence.from(prefix).concat(ByteSequence.from(name, StandardCharsets.UTF_8));
    }

    /** The key of register {@code name} under {@code namespace} (what a watch of it follows). */
    static ByteSequence key(byte[] namespace, String name) {
        return under(prefix(namespace), name);
    }

    @Override
    public Optional<Versioned> read(String name) {
        GetResponse r = calls.await("reading register " + name, () -> kv.get(key(name)));
        return r.getKvs().isEmpty()
                ? Optional.empty()
                : Optional.of(versioned(name, r.getKvs().get(0)));
    }

    private static Versioned versioned(String name, KeyValue kv) {
        return new Versioned(name, kv.getVersion(), kv.getValue().getBytes());
    }

    @Override
    public Versioned write(String name, long expectedVersion, byte[] value, Grant fence) {
        ByteSequence key = key(name);
        List<Cmp> conditions = new ArrayList<>(2);
        List<Op> otherwise = new ArrayList<>(2);
        conditions.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(expectedVersion)));
        otherwise.add(Op.get(key, GetOption.DEFAULT));
        if (fence != null) {
            Grants.Held held = (Grants.Held) fence.handle();
            conditions.add(new Cmp(held.key(), Cmp.Op.EQUAL, CmpTarget.createRevision(held.createRevision())));
            otherwise.add(Op.get(held.key(), GetOption.DEFAULT));
        }
        TxnResponse r = calls.await(
                "writing register " + name,
                () -> kv.txn()
                        .If(conditions.toArray(Cmp[]::new))
                        .Then(Op.put(key, ByteSequence.from(value), PutOption.DEFAULT))
                        .Else(otherwise.toArray(Op[]::new))
                        .commit());
        if (r.isSucceeded()) {
            return new Versioned(name, expectedVersion + 1, value);
        }
        List<GetResponse> reads = r.getGetResponses();
        long found = reads.get(0).getKvs().isEmpty()
                ? 0
                : reads.get(0).getKvs().get(0).getVersion();
        if (fence != null) {
            Grants.Held held = (Grants.Held) fence.handle();
            List<KeyValue> grant = reads.get(1).getKvs();
            if (grant.isEmpty() || grant.get(0).getCreateRevision() != held.createRevision()) {
                throw new ConflictException(
                        "fencing token " + fence.token() + " is no longer a current grant of "
                                + fence.request().name(),
                        found);
            }
        }
        throw ExpectedVersions.conflict(name, expectedVersion, found);
    }
}
