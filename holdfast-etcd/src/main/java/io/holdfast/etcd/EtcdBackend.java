// Over 400 lines: every etcd primitive of the store SPI (acquire, wake-ups, renew, release, revoke,
// registers) over one jetcd client; its session is EtcdSession, its watches' wake-ups EtcdWatches.
// Not split further yet (issue 19).
package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.UnavailableException;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import io.holdfast.store.StoreBackend;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd primitives behind {@link io.holdfast.store.StoreLockClient}.
 *
 * <p><b>For maintainers: how a lock works here.</b> Every attempt puts one key {@code NS + name +
 * NUL + owner}, attached to the client's session lease, in a transaction that creates it only if
 * it is absent (so a retried attempt finds its own key) and reads every key of the name, oldest
 * first. {@link Queue} decides from creation revisions whether the key holds. If it does not, the
 * attempt watches the one key it waits for (or the whole name, for semaphores) from the revision
 * it read, so a deletion between the read and the watch is not missed, and reads again when woken.
 * A failed, timed-out or interrupted wait deletes its key before returning; if etcd cannot be
 * reached then, the deletion is retried by the keep-alive thread until it succeeds or the attempt
 * is retried.
 *
 * <p><b>Tokens.</b> The fencing token is the revision of the write that made the key a holder: the
 * key's creation if it held at once, otherwise a confirming rewrite of the key once it holds (a
 * waiter's creation revision is older than grants made to other names while it waited, so it
 * cannot serve). etcd's revision is store-wide and only grows, so tokens grow in grant order
 * across every name, and the holder's token is always its key's modification revision.
 *
 * <p><b>Session.</b> One etcd lease per client ({@link EtcdSession}): if it is lost, every lease
 * of the client is reported lost and a later acquire gets a new etcd lease. Keys of abandoned
 * waits that could not be deleted at once are deleted later ({@link AbandonedWaits}). A grant with a lease timeout moves its key to an etcd lease of its own
 * (the confirming write), which the client's watchdog renews.
 */
final class EtcdBackend implements StoreBackend {
    private static final Logger log = LoggerFactory.getLogger(EtcdBackend.class);

    /** What every client gives, whatever the cluster's size. */
    static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(
            Capability.FAIR_QUEUE,
            Capability.READ_WRITE,
            Capability.SEMAPHORE,
            Capability.LEASE_TIMEOUT,
            Capability.CHECK_FENCE,
            Capability.INSPECT,
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS));

    /** The longest a waiter trusts its watch without reading the queue again. */
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(2);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Client client;
    private final KV kv;
    private final io.etcd.jetcd.Lease leases;
    private final Watch watch;
    private final ClientOptions options;
    private final Calls calls;
    private final byte[] namespace;
    private final String sessionId;
    private final EtcdSession sessions;
    private final AbandonedWaits abandoned;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Set<Capability> capabilities;
    private final EtcdWatches watches;

    /** What a grant needs to be renewed and released. */
    record Held(ByteSequence key, long createRevision, long leaseId, boolean ownLease, EtcdSession.Lease session) {}

    /** One read of the queue after making sure the attempt's key is in it. */
    private record Attempt(
            ByteSequence key,
            Entry mine,
            List<Entry> entries,
            long revision,
            boolean created,
            EtcdSession.Lease session) {}

    /**
     * Connects: grants the session lease, which also proves that etcd answers.
     *
     * @throws UnavailableException if etcd does not answer within the connect timeout
     */
    EtcdBackend(Client client, EtcdUri uri, ClientOptions options) {
        this.client = client;
        this.kv = client.getKVClient();
        this.leases = client.getLeaseClient();
        this.watch = client.getWatchClient();
        this.options = options;
        this.calls = new Calls(options.requestTimeout(), String.join(",", uri.endpoints()));
        this.namespace = uri.namespace().getBytes(StandardCharsets.UTF_8);
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        this.sessionId = HexFormat.of().formatHex(id);
        String tag = sessionId.substring(0, 8);
        this.sessions = new EtcdSession(leases, options, calls, "holdfast-etcd-keepalive-" + tag);
        this.abandoned = new AbandonedWaits(kv, calls, "holdfast-etcd-cleanup-" + tag);
        this.capabilities = membersAtOpen(client) >= 3 ? withNodeFailure() : CAPABILITIES;
        this.watches = new EtcdWatches(watch, this::watchedKey, options.ticker());
    }

    /**
     * A cluster of three or more members keeps every lock through the loss of one (etcd's Raft
     * majority); one or two members do not. Counted once, when the client opens; 0 if etcd would
     * not say (then nothing is claimed).
     */
    private int membersAtOpen(Client client) {
        try {
            return calls.await(
                            "listing the cluster's members",
                            () -> client.getClusterClient().listMember())
                    .getMembers()
                    .size();
        } catch (UnavailableException e) {
            log.debug("etcd did not list its members; not claiming to survive a member's loss", e);
            return 0;
        }
    }

    private static Set<Capability> withNodeFailure() {
        EnumSet<Capability> all = EnumSet.copyOf(CAPABILITIES);
        all.add(Capability.SURVIVES_NODE_FAILURE);
        return Set.copyOf(all);
    }

    @Override
    public String provider() {
        return "etcd";
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public void start(LossSink sink) {
        sessions.reportTo(sink);
    }

    // ------------------------------------------------------------------ acquiring

    @Override
    public Optional<Grant> tryAcquire(LockRequest request) {
        abandoned.cancel(request.owner());
        try {
            for (int round = 0; round < 3; round++) {
                Attempt a = enqueue(request, 0);
                Queue.Verdict v = Queue.judge(a.entries(), a.mine());
                refuseConflict(request, a, v);
                if (!v.holds()) {
                    deleteOrDefer(request.owner(), a);
                    return Optional.empty();
                }
                Optional<Grant> grant = grant(request, a);
                if (grant.isPresent()) {
                    return grant;
                }
            }
        } catch (UnavailableException e) {
            abandoned.add(request.owner(), key(request.name(), request.owner()));
            throw e;
        }
        abandoned.add(request.owner(), key(request.name(), request.owner()));
        throw new UnavailableException("the key of " + request.describe() + " kept changing under it in etcd");
    }

    @Override
    public Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        abandoned.cancel(request.owner());
        Attempt a = null;
        try {
            while (true) {
                // After a wake, a plain (linearizable, not logged) read is enough while the key is
                // still there; only a missing key is written again.
                Attempt again = a == null ? null : reread(request, a);
                a = again != null
                        ? again
                        : enqueue(request, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline.remainingNanos())));
                Queue.Verdict v = Queue.judge(a.entries(), a.mine());
                refuseConflict(request, a, v);
                if (v.holds()) {
                    Optional<Grant> grant = grant(request, a);
                    if (grant.isPresent()) {
                        return grant;
                    }
                    continue;
                }
                long remaining = deadline.remainingNanos();
                if (remaining <= 0) {
                    deleteOrDefer(request.owner(), a);
                    return Optional.empty();
                }
                awaitDeletion(request, a, v, Math.min(remaining, RECHECK_NANOS));
            }
        } catch (InterruptedException e) {
            if (a != null) {
                deleteOrDefer(request.owner(), a);
            } else {
                abandoned.add(request.owner(), key(request.name(), request.owner()));
            }
            throw e;
        } catch (UnavailableException e) {
            // The client may retry with the same owner (which cancels this); if it gives up, the
            // keep-alive thread deletes the key so that it does not block the queue.
            abandoned.add(request.owner(), key(request.name(), request.owner()));
            throw e;
        }
    }

    private void refuseConflict(LockRequest request, Attempt a, Queue.Verdict v) {
        if (v.conflict() == null) {
            return;
        }
        deleteOrDefer(request.owner(), a);
        Entry c = v.conflict();
        String inUse = c.semaphore() ? "a semaphore of " + c.maxPermits() + " permits" : "a lock";
        throw new InvalidArgumentException(
                request.name() + " is in use as " + inUse + "; " + request.describe() + " does not match it");
    }

    /** Makes sure the attempt's key exists (creating it if absent) and reads the whole queue. */
    private Attempt enqueue(LockRequest request, long waitMillis) {
        while (true) {
            EtcdSession.Lease s = sessions.current();
            ByteSequence key = key(request.name(), request.owner());
            ByteSequence prefix = prefix(request.name());
            GetOption byCreation = GetOption.builder()
                    .isPrefix(true)
                    .withSortField(GetOption.SortTarget.CREATE)
                    .withSortOrder(GetOption.SortOrder.ASCEND)
                    .build();
            ByteSequence value = Entry.value(
                    request.mode(),
                    request.permits(),
                    request.maxPermits(),
                    false,
                    System.currentTimeMillis(),
                    waitMillis,
                    sessionId,
                    options.clientName());
            TxnResponse r = calls.await(
                    "queueing " + request.describe(),
                    () -> kv.txn()
                            .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                            .Then(
                                    Op.put(
                                            key,
                                            value,
                                            PutOption.builder()
                                                    .withLeaseId(s.leaseId)
                                                    .build()),
                                    Op.get(prefix, byCreation))
                            .Else(Op.get(prefix, byCreation))
                            .commit());
            List<Entry> entries = decode(r.getGetResponses().get(0).getKvs(), prefix.size());
            Entry mine = entries.stream()
                    .filter(e -> e.owner().equals(request.owner()))
                    .findFirst()
                    .orElse(null);
            if (mine == null) {
                if (r.isSucceeded()) {
                    throw new UnavailableException(
                            "etcd did not show the key it just created for " + request.describe());
                }
                continue; // deleted between the comparison and the read: try again
            }
            if (!mine.leaseTimeout() && mine.lease() != s.leaseId) {
                // Left from a session this client gave up for lost while etcd kept it: start over.
                calls.await(
                        "removing a stale key of " + request.describe(),
                        () -> kv.txn()
                                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(mine.createRevision())))
                                .Then(Op.delete(key, DeleteOption.DEFAULT))
                                .commit());
                continue;
            }
            return new Attempt(key, mine, entries, r.getHeader().getRevision(), r.isSucceeded(), s);
        }
    }

    /** Reads the queue again for an attempt whose key exists; null if the key or its session is gone. */
    private Attempt reread(LockRequest request, Attempt previous) {
        if (previous.session().lost) {
            return null;
        }
        ByteSequence prefix = prefix(request.name());
        GetOption byCreation = GetOption.builder()
                .isPrefix(true)
                .withSortField(GetOption.SortTarget.CREATE)
                .withSortOrder(GetOption.SortOrder.ASCEND)
                .build();
        var r = calls.await("reading the queue of " + request.name(), () -> kv.get(prefix, byCreation));
        List<Entry> entries = decode(r.getKvs(), prefix.size());
        for (Entry e : entries) {
            if (e.owner().equals(request.owner())
                    && e.createRevision() == previous.mine().createRevision()) {
                return new Attempt(previous.key(), e, entries, r.getHeader().getRevision(), false, previous.session());
            }
        }
        return null;
    }

    /**
     * Turns a key that holds into a grant, with its token (see the class comment), or returns empty
     * if the key changed meanwhile (the caller reads the queue again).
     */
    private Optional<Grant> grant(LockRequest request, Attempt a) {
        Entry mine = a.mine();
        boolean confirmed = mine.modRevision() > mine.createRevision();
        if (!request.leaseTimeout()) {
            long token;
            if (confirmed) {
                token = mine.modRevision();
            } else if (a.created()) {
                token = mine.createRevision();
            } else {
                TxnResponse r = calls.await(
                        "confirming " + request.describe(),
                        () -> kv.txn()
                                .If(new Cmp(a.key(), Cmp.Op.EQUAL, CmpTarget.modRevision(mine.modRevision())))
                                .Then(Op.put(
                                        a.key(),
                                        mine.value(),
                                        PutOption.builder()
                                                .withLeaseId(a.session().leaseId)
                                                .build()))
                                .commit());
                if (!r.isSucceeded()) {
                    return Optional.empty();
                }
                token = r.getHeader().getRevision();
            }
            return Optional.of(new Grant(
                    request, token, new Held(a.key(), mine.createRevision(), a.session().leaseId, false, a.session())));
        }
        if (confirmed && mine.leaseTimeout()) {
            return Optional.of(new Grant(
                    request,
                    mine.modRevision(),
                    new Held(a.key(), mine.createRevision(), mine.lease(), true, a.session())));
        }
        long ttl = EtcdSession.seconds(request.expiry());
        long grantLease = calls.await("granting the lease of " + request.describe(), () -> leases.grant(ttl))
                .getID();
        TxnResponse r;
        try {
            r = calls.await(
                    "moving " + request.describe() + " to its own lease",
                    () -> kv.txn()
                            .If(new Cmp(a.key(), Cmp.Op.EQUAL, CmpTarget.modRevision(mine.modRevision())))
                            .Then(Op.put(
                                    a.key(),
                                    mine.withLeaseTimeout(),
                                    PutOption.builder().withLeaseId(grantLease).build()))
                            .commit());
        } catch (UnavailableException e) {
            revokeQuietly(grantLease); // if the move did land, the key goes with it; the retry starts over
            throw e;
        }
        if (!r.isSucceeded()) {
            revokeQuietly(grantLease);
            return Optional.empty();
        }
        return Optional.of(new Grant(
                request,
                r.getHeader().getRevision(),
                new Held(a.key(), mine.createRevision(), grantLease, true, a.session())));
    }

    /** Blocks until the key the attempt waits for may have gone, or {@code maxNanos} passed. */
    private void awaitDeletion(LockRequest request, Attempt a, Queue.Verdict v, long maxNanos)
            throws InterruptedException {
        ByteSequence watched;
        WatchOption.Builder option =
                WatchOption.builder().withRevision(a.revision() + 1).withNoPut(true);
        if (v.blocker() != null) {
            watched = key(request.name(), v.blocker().owner());
        } else {
            watched = prefix(request.name());
            option.isPrefix(true);
        }
        CompletableFuture<Void> wake = new CompletableFuture<>();
        Watch.Watcher watcher;
        try {
            watcher = watch.watch(
                    watched,
                    option.build(),
                    Watch.listener(
                            response -> {
                                if (!response.getEvents().isEmpty()) {
                                    wake.complete(null);
                                }
                            },
                            error -> wake.complete(null),
                            () -> wake.complete(null)));
        } catch (RuntimeException e) {
            throw calls.unavailable("watching the queue of " + request.name(), e);
        }
        try {
            wake.get(maxNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // read the queue again either way
        } finally {
            try {
                watcher.close();
            } catch (RuntimeException e) {
                log.debug("closing an etcd watcher failed", e);
            }
        }
    }

    /** Sleeps until an etcd watch of what {@code target} follows has an event ({@link EtcdWatches}). */
    @Override
    public void awaitWatched(io.holdfast.WatchTarget target, long maxNanos) throws InterruptedException {
        watches.await(target, maxNanos);
    }

    EtcdWatches watches() {
        return watches;
    }

    /** The key of a lock's entries (a prefix), of every lock under a prefix, or of a register. */
    private ByteSequence watchedKey(io.holdfast.WatchTarget target) {
        return switch (target.kind()) {
            case LOCK -> prefix(target.name());
            case PREFIX -> ByteSequence.from(concat(namespace, target.name().getBytes(StandardCharsets.UTF_8)));
            case REGISTER -> EtcdRegisters.key(namespace, target.name());
        };
    }

    @Override
    public io.holdfast.store.StoreRegisters registers() {
        return new EtcdRegisters(kv, calls, namespace);
    }

    // ------------------------------------------------------------------ renew and release

    @Override
    public Duration renewEvery(Grant grant) {
        Held h = (Held) grant.handle();
        return h.ownLease()
                ? grant.request().expiry().dividedBy(3)
                : options.sessionTtl().dividedBy(3);
    }

    /**
     * A grant on its own lease is renewed in etcd; a grant on the session lease is as alive as the
     * session, which the keep-alive thread watches, so it is answered without a call.
     */
    @Override
    public boolean renew(Grant grant) {
        Held h = (Held) grant.handle();
        if (!h.ownLease()) {
            return !h.session().lost;
        }
        try {
            LeaseKeepAliveResponse r =
                    calls.await("renewing " + grant.request().describe(), () -> leases.keepAliveOnce(h.leaseId()));
            return r.getTTL() > 0;
        } catch (UnavailableException e) {
            if (Calls.leaseNotFound(e)) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public boolean release(Grant grant) {
        Held h = (Held) grant.handle();
        TxnResponse r = calls.await(
                "releasing " + grant.request().describe(),
                () -> kv.txn()
                        .If(new Cmp(h.key(), Cmp.Op.EQUAL, CmpTarget.createRevision(h.createRevision())))
                        .Then(Op.delete(h.key(), DeleteOption.DEFAULT))
                        .commit());
        if (h.ownLease()) {
            revokeQuietly(h.leaseId());
        }
        return r.isSucceeded();
    }

    // ------------------------------------------------------------------ cleanup of abandoned waits

    private void deleteOrDefer(String owner, Attempt a) {
        try {
            calls.await(
                    "taking a wait off the queue",
                    () -> kv.txn()
                            .If(new Cmp(
                                    a.key(),
                                    Cmp.Op.EQUAL,
                                    CmpTarget.createRevision(a.mine().createRevision())))
                            .Then(Op.delete(a.key(), DeleteOption.DEFAULT))
                            .commit());
        } catch (UnavailableException e) {
            abandoned.add(owner, a.key());
        }
    }

    private void revokeQuietly(long leaseId) {
        if (calls.stopped()) {
            return;
        }
        try {
            leases.revoke(leaseId).exceptionally(e -> null);
        } catch (RuntimeException e) {
            log.debug("revoking etcd lease {} failed; it expires by itself", Long.toHexString(leaseId), e);
        }
    }

    // ------------------------------------------------------------------ admin, close

    @Override
    public Admin admin() {
        return new EtcdAdmin(this);
    }

    /** Every entry of one name, oldest first. */
    List<Entry> entries(String name) {
        ByteSequence prefix = prefix(name);
        GetOption byCreation = GetOption.builder()
                .isPrefix(true)
                .withSortField(GetOption.SortTarget.CREATE)
                .withSortOrder(GetOption.SortOrder.ASCEND)
                .build();
        return decode(
                calls.await("reading " + name, () -> kv.get(prefix, byCreation)).getKvs(), prefix.size());
    }

    /** Every key under the names that start with {@code namePrefix}, in key order, grouped by name. */
    Map<String, List<Entry>> entriesUnder(String namePrefix, int limit) {
        ByteSequence start = ByteSequence.from(concat(namespace, namePrefix.getBytes(StandardCharsets.UTF_8)));
        GetOption byKey = GetOption.builder()
                .isPrefix(true)
                .withSortField(GetOption.SortTarget.KEY)
                .withSortOrder(GetOption.SortOrder.ASCEND)
                .build();
        var kvs = calls.await("listing locks", () -> kv.get(start, byKey)).getKvs();
        Map<String, List<Entry>> byName = new java.util.LinkedHashMap<>();
        for (var kv : kvs) {
            byte[] k = kv.getKey().getBytes();
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
            Entry e = Entry.decode(kv, nul + 1);
            if (e != null) {
                byName.computeIfAbsent(name, n -> new ArrayList<>()).add(e);
            }
        }
        byName.values().forEach(list -> list.sort(java.util.Comparator.comparingLong(Entry::createRevision)));
        return byName;
    }

    /** The seconds left of an etcd lease by etcd's clock, or empty if it is gone. */
    Optional<Duration> timeLeft(long leaseId) {
        long ttl = calls.await(
                        "reading a lease", () -> leases.timeToLive(leaseId, io.etcd.jetcd.options.LeaseOption.DEFAULT))
                .getTTL();
        return ttl > 0 ? Optional.of(Duration.ofSeconds(ttl)) : Optional.empty();
    }

    @Override
    public void abandon() {
        watches.close();
        calls.stop();
        sessions.abandon();
        abandoned.close();
        closeClient();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        abandoned.close();
        sessions.close();
        watches.close();
        calls.stop();
        closeClient();
    }

    private void closeClient() {
        try {
            client.close();
        } catch (RuntimeException e) {
            log.debug("closing the etcd client failed", e);
        }
    }

    // ------------------------------------------------------------------ keys

    private ByteSequence prefix(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[namespace.length + n.length + 1];
        System.arraycopy(namespace, 0, p, 0, namespace.length);
        System.arraycopy(n, 0, p, namespace.length, n.length);
        p[p.length - 1] = (byte) Entry.SEPARATOR;
        return ByteSequence.from(p);
    }

    private ByteSequence key(String name, String owner) {
        return prefix(name).concat(ByteSequence.from(owner, StandardCharsets.UTF_8));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static List<Entry> decode(List<io.etcd.jetcd.KeyValue> kvs, int prefixLength) {
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
