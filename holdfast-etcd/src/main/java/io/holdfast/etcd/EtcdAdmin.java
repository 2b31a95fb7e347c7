package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.options.GetOption;
import io.holdfast.Admin;
import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.WaiterInfo;
import java.nio.charset.StandardCharsets;
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
    private final KV kv;
    private final io.etcd.jetcd.Lease leases;
    private final Calls calls;
    private final EtcdKeys keys;

    EtcdAdmin(KV kv, io.etcd.jetcd.Lease leases, Calls calls, EtcdKeys keys) {
        this.kv = kv;
        this.leases = leases;
        this.calls = calls;
        this.keys = keys;
    }

    @Override
    public List<LockInfo> locks(String prefix, int limit) {
        List<LockInfo> infos = new ArrayList<>();
        for (Map.Entry<String, List<Entry>> e : entriesUnder(prefix, limit).entrySet()) {
            if (!e.getValue().isEmpty() && infos.size() < limit) {
                infos.add(info(e.getKey(), e.getValue()));
            }
        }
        return infos;
    }

    @Override
    public Optional<LockInfo> describe(String name) {
        List<Entry> entries = entries(name);
        return entries.isEmpty() ? Optional.empty() : Optional.of(info(name, entries));
    }

    @Override
    public int revoke(String name) {
        throw new UnsupportedFeatureException("the etcd provider does not support revoking locks");
    }

    @Override
    public boolean isCurrentHolder(String name, long fencingToken) {
        for (Entry e : Queue.holders(entries(name))) {
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
                Duration leaseLeft = e.leaseTimeout() ? timeLeft(e.lease()).orElse(Duration.ZERO) : null;
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

    /** Every entry of one name, oldest first. */
    private List<Entry> entries(String name) {
        ByteSequence prefix = keys.prefix(name);
        GetOption byCreation = EtcdKeys.byCreation();
        return EtcdKeys.decode(
                calls.await("reading " + name, () -> kv.get(prefix, byCreation)).getKvs(), prefix.size());
    }

    /** Every key under the names that start with {@code namePrefix}, in key order, grouped by name. */
    private Map<String, List<Entry>> entriesUnder(String namePrefix, int limit) {
        ByteSequence start = keys.under(namePrefix);
        byte[] namespace = keys.namespace();
        GetOption byKey = GetOption.builder()
                .isPrefix(true)
                .withSortField(GetOption.SortTarget.KEY)
                .withSortOrder(GetOption.SortOrder.ASCEND)
                .build();
        var kvs = calls.await("listing locks", () -> kv.get(start, byKey)).getKvs();
        Map<String, List<Entry>> byName = new java.util.LinkedHashMap<>();
        for (var found : kvs) {
            byte[] k = found.getKey().getBytes();
            int nul = -1;
            for (int i = namespace.length; i < k.length; i++) {
                if (k[i] == 0) {
                    nul = i;
                    break;
                }
            }
            if (nul < 0) {
                continue;
            }
            String name = new String(k, namespace.length, nul - namespace.length, StandardCharsets.UTF_8);
            if (!byName.containsKey(name) && byName.size() >= limit) {
                break;
            }
            Entry e = Entry.decode(found, nul + 1);
            if (e != null) {
                byName.computeIfAbsent(name, n -> new ArrayList<>()).add(e);
            }
        }
        byName.values().forEach(list -> list.sort(java.util.Comparator.comparingLong(Entry::createRevision)));
        return byName;
    }

    /** The seconds left of an etcd lease by etcd's clock, or empty if it is gone. */
    private Optional<Duration> timeLeft(long leaseId) {
        long ttl = calls.await(
                        "reading a lease", () -> leases.timeToLive(leaseId, io.etcd.jetcd.options.LeaseOption.DEFAULT))
                .getTTL();
        return ttl > 0 ? Optional.of(Duration.ofSeconds(ttl)) : Optional.empty();
    }
}
