package io.holdfast.redis;

import io.holdfast.ConflictException;
import io.holdfast.ExpectedVersions;
import io.holdfast.Versioned;
import io.holdfast.store.Grant;
import io.holdfast.store.StoreRegisters;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Registers in Redis: one hash per key, {@code <prefix>reg:<key>}, apart from the locks' keys.
 *
 * <p><b>What it guarantees.</b> A write is one Lua script ({@code register-write.lua}), so Redis
 * compares the version, checks the fence (the grant's entry in the lock's holders hash, live by
 * Redis's {@code TIME}) and writes in one step, then publishes on the register's watch channel
 * ({@link RedisWatches}). Each write carries an id of its own: sent again
 * after a reconnect, it is answered as written rather than as a conflict with itself.
 *
 * <p><b>What it does not guarantee.</b> Redis replication is asynchronous: a write acknowledged by
 * a primary that fails before its replica has it is lost in the failover, as a grant is. Values
 * travel base64-encoded (the connection speaks UTF-8 strings), a third larger than they are.
 */
final class RedisRegisters implements StoreRegisters {
    static final LuaScript WRITE = LuaScript.load("register-write", ScriptOutputType.MULTI);

    private final RedisBackend backend;

    RedisRegisters(RedisBackend backend) {
        this.backend = backend;
    }

    private String key(String name) {
        return backend.layout().register(name);
    }

    @Override
    public Optional<Versioned> read(String name) {
        if (!backend.cluster()) {
            return backend.keys().read(name); // a register is the key of the same name
        }
        List<KeyValue<String, String>> fields =
                backend.calls().call("read register " + name, c -> c.hmget(key(name), "v", "d"));
        if (fields.size() < 2 || !fields.get(0).hasValue()) {
            return Optional.empty();
        }
        long version = Long.parseLong(fields.get(0).getValue());
        byte[] value = Base64.getDecoder().decode(fields.get(1).getValueOrElse(""));
        return Optional.of(new Versioned(name, version, value));
    }

    @Override
    public Versioned write(String name, long expectedVersion, byte[] value, Grant fence) {
        if (!backend.cluster()) {
            return fence == null
                    ? backend.keys().writeRegister(name, expectedVersion, value, null, 0)
                    : backend.keys()
                            .writeRegister(
                                    name,
                                    expectedVersion,
                                    value,
                                    fence.request().name(),
                                    fence.token());
        }
        String register = key(name);
        List<Long> answer = backend.run(
                WRITE,
                "write register " + name,
                new String[] {
                    register,
                    fence == null
                            ? register
                            : backend.layout().holders(fence.request().name())
                },
                Long.toString(expectedVersion),
                Base64.getEncoder().encodeToString(value),
                UUID.randomUUID().toString(),
                fence == null ? "" : fence.request().owner(),
                fence == null ? "0" : Long.toString(fence.token()),
                RedisWatches.registerChannel(backend.prefix(), name));
        long status = answer.get(0);
        long version = answer.get(1);
        if (status == 1) {
            backend.awaitReplicas("the write of register " + name);
            return new Versioned(name, version, value);
        }
        if (status == -1) {
            throw new ConflictException(
                    "fencing token " + fence.token() + " is no longer a current grant of "
                            + fence.request().name(),
                    version);
        }
        throw ExpectedVersions.conflict(name, expectedVersion, version);
    }
}
