package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.holdfast.LockMode;
import java.nio.charset.StandardCharsets;

/**
 * One key under a lock's prefix: a holder or a waiter, as stored in etcd. The key is {@code
 * NAMESPACE + name + NUL + owner}; NUL cannot occur in a lock name, so the prefix of one name
 * never covers another's keys. The value is a tab-separated line: a format version, the mode, the
 * permits asked for, the size of the lock (1, or the semaphore's permits), whether the grant has a
 * lease timeout, the writer's wall clock and wait in milliseconds (shown by {@code describe}
 * only), the session id and the client name (last, so it may hold any character).
 *
 * @param owner the request's owner, unique per attempt
 * @param createRevision the revision that created the key: its place in the queue
 * @param modRevision the revision of its last write: the fencing token once it holds
 * @param lease the etcd lease the key is attached to
 */
record Entry(
        String owner,
        long createRevision,
        long modRevision,
        long lease,
        LockMode mode,
        int permits,
        int maxPermits,
        boolean leaseTimeout,
        long wallMillis,
        long waitMillis,
        String sessionId,
        String clientName) {
    static final char SEPARATOR = '\0';
    private static final String VERSION = "1";

    /** The value to store for a request. */
    static ByteSequence value(
            LockMode mode,
            int permits,
            int maxPermits,
            boolean leaseTimeout,
            long wallMillis,
            long waitMillis,
            String sessionId,
            String clientName) {
        String text = String.join(
                "\t",
                VERSION,
                mode.name(),
                Integer.toString(permits),
                Integer.toString(maxPermits),
                leaseTimeout ? "1" : "0",
                Long.toString(wallMillis),
                Long.toString(waitMillis),
                sessionId,
                clientName);
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    /** The value with the lease-timeout flag set, as written when such a grant takes its own lease. */
    ByteSequence withLeaseTimeout() {
        return value(mode, permits, maxPermits, true, wallMillis, waitMillis, sessionId, clientName);
    }

    /** The value as it is. */
    ByteSequence value() {
        return value(mode, permits, maxPermits, leaseTimeout, wallMillis, waitMillis, sessionId, clientName);
    }

    /**
     * Decodes a key-value under {@code prefix} (a lock's prefix, ending in NUL), or returns null for
     * a key that is not one of ours (an operator's stray key): it is then ignored, not trusted.
     */
    static Entry decode(KeyValue kv, int prefixLength) {
        String owner = kv.getKey().substring(prefixLength).toString(StandardCharsets.UTF_8);
        String[] f = kv.getValue().toString(StandardCharsets.UTF_8).split("\t", 9);
        if (f.length != 9 || !VERSION.equals(f[0])) {
            return null;
        }
        try {
            return new Entry(
                    owner,
                    kv.getCreateRevision(),
                    kv.getModRevision(),
                    kv.getLease(),
                    LockMode.valueOf(f[1]),
                    Integer.parseInt(f[2]),
                    Integer.parseInt(f[3]),
                    "1".equals(f[4]),
                    Long.parseLong(f[5]),
                    Long.parseLong(f[6]),
                    f[7],
                    f[8]);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    boolean semaphore() {
        return mode == LockMode.PERMITS;
    }
}
