package io.holdfast.redis;

import io.holdfast.Capability;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/** What the Redis provider declares: on one Redis (or through Sentinels), and on a Redis Cluster. */
final class RedisCapabilities {
    private RedisCapabilities() {}

    /** On one Redis, or a primary found through Sentinels. */
    static final Set<Capability> ONE_REDIS = Collections.unmodifiableSet(EnumSet.of(
            Capability.FAIR_QUEUE,
            Capability.INSPECT,
            Capability.READ_WRITE,
            Capability.SEMAPHORE,
            Capability.LEASE_TIMEOUT,
            Capability.CHECK_FENCE,
            Capability.REVOKE,
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS));

    /**
     * On a Redis Cluster: the same but fenced register writes, whose register and lock are in
     * different hash slots, which no script can touch in one step, and keys, whose scripts touch
     * keys they do not declare (the name index, the session's set).
     */
    static final Set<Capability> CLUSTER = without(
            ONE_REDIS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS);

    private static Set<Capability> without(Set<Capability> all, Capability... left) {
        EnumSet<Capability> some = EnumSet.copyOf(all);
        some.removeAll(java.util.List.of(left));
        return Collections.unmodifiableSet(some);
    }
}
