package io.holdfast.client.internal;

import io.holdfast.lease.LeaseHost;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.lease.ManagedLease;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.FenceCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;

/**
 * The leases a client holds, by fencing token, and what they need from the client ({@link
 * LeaseHost}): the clock, the session's validity, renewal timers and callback threads.
 *
 * <p><b>Guarantees.</b> A lease is here from its grant until it is released, lost or given back;
 * a lease the service says is lost (an event, or a check after events may have been missed) is
 * marked lost and its listeners are told, once ({@link ManagedLease}). A grant nobody will use is
 * {@linkplain #giveBack given back} until the service has it, so a lock the client no longer wants
 * never stays held by a session that lives on.
 *
 * <p><b>Does not</b> decide validity itself: {@link ManagedLease} does, from {@link
 * #validUntilNanos} and its own renewals.
 */
final class LeaseRegistry {
    private final SessionParts parts;
    /** The client whose leases these are, whichever of its sessions holds them. */
    private final Object client;

    private final Map<Long, RuntimeLease> leases = new ConcurrentHashMap<>();
    private final LeaseHost host = new Host();

    LeaseRegistry(SessionParts parts, Object client) {
        this.parts = parts;
        this.client = client;
    }

    /**
     * A lease for a grant, its watchdog started; hand it out once {@link RuntimeLease#confirmed()}
     * completes.
     *
     * @param countFromNanos when the acquire started: the watchdog counts the lease timeout from
     *     there until a renewal is acknowledged ({@link ManagedLease})
     * @param late the grant may be older than the events this client has had (the table's memory
     *     of it, answering an acquire sent again): it is confirmed with the service first
     */
    RuntimeLease newLease(LeaseRequest request, long token, long leaseMillis, long countFromNanos, boolean late) {
        long countFrom =
                late ? RuntimeLease.countFromIfLate(countFromNanos, host.nanos(), leaseMillis) : countFromNanos;
        RuntimeLease lease =
                new RuntimeLease(this, parts.requests(), parts.threads(), host, request, token, leaseMillis, countFrom);
        leases.put(token, lease);
        lease.startWatchdog(late);
        return lease;
    }

    /** Whether this registry made the lease (it may have been released or lost since). */
    boolean issued(io.holdfast.Lease lease) {
        return lease instanceof RuntimeLease rl && rl.registry() == this;
    }

    /**
     * Whether a session of {@code client} made the lease, this one or one lost before (it may have
     * been released or lost since).
     */
    static boolean issuedBy(Object client, io.holdfast.Lease lease) {
        return lease instanceof RuntimeLease rl && rl.registry().client == client;
    }

    /** Whether a lease of this token is held here. */
    boolean holds(long token) {
        return leases.containsKey(token);
    }

    /**
     * Releases a grant nobody will use (a wait given up on, a lease released quietly), until the
     * service answers ({@link Requests#untilKnown}).
     */
    void giveBack(String name, long token) {
        RuntimeLease lease = leases.get(token);
        if (lease != null) {
            lease.markReleased();
        }
        if (parts.session().isOpen() && !parts.session().isSevered()) {
            parts.requests().untilKnown(inv -> new Command.Release(inv, name, token), null);
        }
    }

    /** The service says a lease was lost. */
    void onLost(Event.Lost lost) {
        RuntimeLease lease = leases.get(lost.token());
        if (lease != null) {
            lease.markLost(
                    switch (lost.reason()) {
                        case SESSION_EXPIRED -> "the session expired";
                        case LEASE_TIMEOUT -> "its lease timeout passed without renewal";
                        case REVOKED -> "an operator revoked it";
                    });
        }
    }

    /**
     * Events may have been lost: checks with the service that every lease is still current, all in
     * one request ({@link io.holdfast.model.LockService#isCurrentHolderMany}).
     */
    void checkAll() {
        List<RuntimeLease> held = new ArrayList<>(leases.values());
        if (held.isEmpty()) {
            return;
        }
        List<FenceCheck> checks = new ArrayList<>(held.size());
        held.forEach(lease -> checks.add(new FenceCheck(lease.name(), lease.fencingToken())));
        parts.transport().isCurrentHolderMany(checks).whenComplete((current, error) -> {
            if (error != null || current.size() != held.size()) {
                return; // nothing is known: the leases stay as they are, as after a failed single check
            }
            for (int i = 0; i < held.size(); i++) {
                if (Boolean.FALSE.equals(current.get(i))) {
                    held.get(i).markLost("it was taken away while this client was disconnected");
                }
            }
        });
    }

    /** The session is gone: every lease is lost. */
    void loseAll(String why) {
        for (RuntimeLease lease : new ArrayList<>(leases.values())) {
            lease.markLost(why);
        }
    }

    /** The client is closing (its session's end releases them): every lease is released. */
    void releaseAll() {
        for (RuntimeLease lease : new ArrayList<>(leases.values())) {
            lease.markReleased();
        }
        leases.clear();
    }

    /** What the leases need from the client. */
    private final class Host implements LeaseHost {
        @Override
        public long nanos() {
            return parts.options().ticker().nanos();
        }

        @Override
        public long validUntilNanos() {
            return parts.session().validUntilNanos();
        }

        @Override
        public Future<?> scheduleRenewals(Runnable round, long initialDelayMillis, long periodMillis) {
            return parts.threads().scheduleWithFixedDelay(round, initialDelayMillis, periodMillis);
        }

        @Override
        public void runCallback(Runnable task) {
            parts.threads().runCallback(task);
        }

        @Override
        public void forget(ManagedLease lease) {
            leases.remove(lease.fencingToken(), lease);
        }
    }
}
