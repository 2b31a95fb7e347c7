package io.holdfast.etcd;

import io.holdfast.Admin;
import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.WaiterInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Inspection and fencing checks, read straight from the keys: who holds is decided by {@link
 * Queue} exactly as the waiters decide it. A holder's token is its key's modification revision.
 * Durations held and waited are by the writing client's wall clock (etcd keeps no time with a
 * key), so they are informative only; a lease's time left is etcd's own.
 */
final class EtcdAdmin implements Admin {
    private final EtcdBackend backend;

    EtcdAdmin(EtcdBackend backend) {
        this.backend = backend;
    }

    @Override
    public List<LockInfo> locks(String prefix, int limit) {
        List<LockInfo> infos = new ArrayList<>();
        for (Map.Entry<String, List<Entry>> e :
                backend.entriesUnder(prefix, limit).entrySet()) {
            if (!e.getValue().isEmpty() && infos.size() < limit) {
                infos.add(info(e.getKey(), e.getValue()));
            }
        }
        return infos;
    }

    @Override
    public Optional<LockInfo> describe(String name) {
        List<Entry> entries = backend.entries(name);
        return entries.isEmpty() ? Optional.empty() : Optional.of(info(name, entries));
    }

    @Override
    public int revoke(String name) {
        throw new UnsupportedFeatureException("the etcd provider does not support revoking locks");
    }

    @Override
    public boolean isCurrentHolder(String name, long fencingToken) {
        for (Entry e : Queue.holders(backend.entries(name))) {
            if (e.modRevision() == fencingToken) {
                return true;
            }
        }
        return false;
    }

    private LockInfo info(String name, List<Entry> entries) {
        List<Entry> holding = Queue.holders(entries);
        long now = System.currentTimeMillis();
        List<HolderInfo> holders = new ArrayList<>();
        List<WaiterInfo> waiters = new ArrayList<>();
        for (Entry e : entries) {
            if (holding.contains(e)) {
                Duration leaseLeft =
                        e.leaseTimeout() ? backend.timeLeft(e.lease()).orElse(Duration.ZERO) : null;
                holders.add(new HolderInfo(
                        e.sessionId(),
                        e.clientName(),
                        e.mode(),
                        e.permits(),
                        e.modRevision(),
                        1,
                        Duration.ofMillis(Math.max(0, now - e.wallMillis())),
                        leaseLeft));
            } else {
                waiters.add(new WaiterInfo(
                        e.sessionId(),
                        e.clientName(),
                        e.mode(),
                        e.permits(),
                        Duration.ofMillis(Math.max(0, now - e.wallMillis())),
                        Duration.ofMillis(Math.max(0, e.wallMillis() + e.waitMillis() - now))));
            }
        }
        Entry first = entries.get(0);
        return new LockInfo(name, first.semaphore(), first.maxPermits(), holders, waiters);
    }
}
