package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.UnavailableException;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one etcd client ({@link EtcdBackend}) acquires: queues, waits and gives up.
 *
 * <p><b>For maintainers: how a lock works here.</b> Every attempt puts one key {@code NS + name +
 * NUL + owner} ({@link EtcdKeys}), attached to the client's session lease, in a transaction that
 * creates it only if it is absent (so a retried attempt finds its own key) and reads every key of
 * the name, oldest first. {@link Queue} decides from creation revisions whether the key holds; if
 * it does, {@link Grants} makes it a grant. If it does not, the attempt watches the one key it
 * waits for (or the whole name, for semaphores) from the revision it read, so a deletion between
 * the read and the watch is not missed, and reads again when woken.
 *
 * <p><b>A failure story.</b> A failed, timed-out or interrupted wait deletes its key before
 * returning; if etcd cannot be reached then, the deletion is retried by the keep-alive thread
 * ({@link AbandonedWaits}) until it succeeds or the attempt is retried with the same owner.
 */
final class Acquirer {
    private static final Logger log = LoggerFactory.getLogger(Acquirer.class);

    /** The longest a waiter trusts its watch without reading the queue again. */
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(2);

    /** One read of the queue after making sure the attempt's key is in it. */
    record Attempt(
            ByteSequence key,
            Entry mine,
            List<Entry> entries,
            long revision,
            boolean created,
            EtcdSession.Lease session) {}

    private final KV kv;
    private final Watch watch;
    private final ClientOptions options;
    private final Calls calls;
    private final EtcdKeys keys;
    private final String sessionId;
    private final EtcdSession sessions;
    private final AbandonedWaits abandoned;
    private final Grants grants;

    Acquirer(
            KV kv,
            Watch watch,
            ClientOptions options,
            Calls calls,
            EtcdKeys keys,
            String sessionId,
            EtcdSession sessions,
            AbandonedWaits abandoned,
            Grants grants) {
        this.kv = kv;
        this.watch = watch;
        this.options = options;
        this.calls = calls;
        this.keys = keys;
        this.sessionId = sessionId;
        this.sessions = sessions;
        this.abandoned = abandoned;
        this.grants = grants;
    }

    /** {@link io.holdfast.store.StoreBackend#tryAcquire}: queues, and takes the key off again unless it holds. */
    Optional<Grant> tryAcquire(LockRequest request) {
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
                Optional<Grant> grant = grants.grant(request, a);
                if (grant.isPresent()) {
                    return grant;
                }
            }
        } catch (UnavailableException e) {
            abandoned.add(request.owner(), keys.key(request.name(), request.owner()));
            throw e;
        }
        abandoned.add(request.owner(), keys.key(request.name(), request.owner()));
        throw new UnavailableException("the key of " + request.describe() + " kept changing under it in etcd");
    }

    /** {@link io.holdfast.store.StoreBackend#acquire}: queues, and waits on a watch until the key holds. */
    Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
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
                    Optional<Grant> grant = grants.grant(request, a);
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
                abandoned.add(request.owner(), keys.key(request.name(), request.owner()));
            }
            throw e;
        } catch (UnavailableException e) {
            // The client may retry with the same owner (which cancels this); if it gives up, the
            // keep-alive thread deletes the key so that it does not block the queue.
            abandoned.add(request.owner(), keys.key(request.name(), request.owner()));
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
            ByteSequence key = keys.key(request.name(), request.owner());
            ByteSequence prefix = keys.prefix(request.name());
            GetOption byCreation = EtcdKeys.byCreation();
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
            List<Entry> entries = EtcdKeys.decode(r.getGetResponses().get(0).getKvs(), prefix.size());
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
        ByteSequence prefix = keys.prefix(request.name());
        GetOption byCreation = EtcdKeys.byCreation();
        var r = calls.await("reading the queue of " + request.name(), () -> kv.get(prefix, byCreation));
        List<Entry> entries = EtcdKeys.decode(r.getKvs(), prefix.size());
        for (Entry e : entries) {
            if (e.owner().equals(request.owner())
                    && e.createRevision() == previous.mine().createRevision()) {
                return new Attempt(previous.key(), e, entries, r.getHeader().getRevision(), false, previous.session());
            }
        }
        return null;
    }

    /** Blocks until the key the attempt waits for may have gone, or {@code maxNanos} passed. */
    private void awaitDeletion(LockRequest request, Attempt a, Queue.Verdict v, long maxNanos)
            throws InterruptedException {
        ByteSequence watched;
        WatchOption.Builder option =
                WatchOption.builder().withRevision(a.revision() + 1).withNoPut(true);
        if (v.blocker() != null) {
            watched = keys.key(request.name(), v.blocker().owner());
        } else {
            watched = keys.prefix(request.name());
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
}
