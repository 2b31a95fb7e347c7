package io.holdfast.client.internal;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockInfo;
import io.holdfast.Names;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.Optional;

/** The operator calls of a {@link ClientRuntime}. */
final class AdminHandle implements Admin {
    private final ClientRuntime rt;

    AdminHandle(ClientRuntime rt) {
        this.rt = rt;
    }

    @Override
    public List<LockInfo> locks(String prefix, int limit) {
        rt.requireCapability(Capability.INSPECT, "listing locks");
        if (prefix == null) {
            throw new InvalidArgumentException("prefix must not be null (use \"\" for all)");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new InvalidArgumentException("limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
        }
        return Replies.join(rt.query(t -> t.list(prefix, limit)));
    }

    @Override
    public Optional<LockInfo> describe(String name) {
        rt.requireCapability(Capability.INSPECT, "describing locks");
        Names.check(name);
        return Replies.join(rt.query(t -> t.describe(name)));
    }

    @Override
    public int revoke(String name) {
        rt.requireCapability(Capability.REVOKE, "revoking locks");
        Names.check(name);
        rt.ensureOpen();
        Reply reply = Replies.join(rt.call(new Command.Revoke(name)));
        if (reply instanceof Reply.Ok ok) {
            return (int) ok.value();
        }
        throw Replies.failure(reply);
    }

    @Override
    public boolean isCurrentHolder(String name, long fencingToken) {
        rt.requireCapability(Capability.CHECK_FENCE, "fence checks");
        Names.check(name);
        return Replies.join(rt.query(t -> t.isCurrentHolder(name, fencingToken)));
    }
}
