package io.holdfast.redis;

import io.holdfast.Versioned;
import io.holdfast.store.Grant;
import io.holdfast.store.StoreRegisters;
import java.util.Optional;

/**
 * Registers in Redis: each is the key of the same name ({@link RedisKeyStore}), so a register and
 * {@code Keys.get} of one name agree.
 *
 * <p><b>What it guarantees.</b> A write is one Lua script ({@code keys-txn.lua}), so Redis checks
 * the fence (the grant's entry in the lock's holders hash, of this session, live by Redis's {@code
 * TIME}), compares the version and writes in one step, then publishes on the register's watch
 * channel ({@link RedisWatches}). Each write carries an id of its own: sent again after a
 * reconnect, it is answered as written rather than as a conflict with itself. A write makes the
 * key live until deleted, as a put without options does.
 *
 * <p><b>What it does not guarantee.</b> Redis replication is asynchronous: a write acknowledged by
 * a primary that fails before its replica has it is lost in the failover, as a grant is. Values
 * travel base64-encoded (the connection speaks UTF-8 strings), a third larger than they are.
 */
final class RedisRegisters implements StoreRegisters {
    private final RedisBackend backend;

    RedisRegisters(RedisBackend backend) {
        this.backend = backend;
    }

    @Override
    public Optional<Versioned> read(String name) {
        return backend.keys().read(name);
    }

    @Override
    public Versioned write(String name, long expectedVersion, byte[] value, Grant fence) {
        return fence == null
                ? backend.keys().writeRegister(name, expectedVersion, value, null, 0)
                : backend.keys()
                        .writeRegister(
                                name, expectedVersion, value, fence.request().name(), fence.token());
    }
}
