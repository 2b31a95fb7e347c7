package io.holdfast.store;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockInfo;
import io.holdfast.Names;
import java.util.List;
import java.util.Optional;

/** The operator calls: arguments and capabilities checked here, the work done by the backend. */
final class StoreAdmin implements Admin {
    /** The most locks one {@link #locks} call lists. */
    private final StoreLockClient client;

    private final Admin backend;

    StoreAdmin(StoreLockClient client, Admin backend) {
        this.client = client;
        this.backend = backend;
    }

    @Override
    public List<LockInfo> locks(String prefix, int limit) {
        client.require(Capability.INSPECT, "listing locks");
        if (prefix == null) {
            throw new InvalidArgumentException("prefix must not be null (use \"\" for all)");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new InvalidArgumentException("limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
        }
        client.checkOpen();
        return backend.locks(prefix, limit);
    }

    @Override
    public Optional<LockInfo> describe(String name) {
        client.require(Capability.INSPECT, "describing locks");
        Names.check(name);
        client.checkOpen();
        return backend.describe(name);
    }

    @Override
    public int revoke(String name) {
        client.require(Capability.REVOKE, "revoking locks");
        Names.check(name);
        client.checkOpen();
        return backend.revoke(name);
    }

    @Override
    public boolean isCurrentHolder(String name, long fencingToken) {
        client.require(Capability.CHECK_FENCE, "checking fencing tokens");
        Names.check(name);
        client.checkOpen();
        return backend.isCurrentHolder(name, fencingToken);
    }
}
