package io.holdfast.store;

import io.holdfast.LockLostException;
import io.holdfast.lease.LeaseHost;
import io.holdfast.lease.ManagedLease;
import io.holdfast.lease.RenewOutcome;
import java.util.concurrent.CompletableFuture;

/**
 * A lease over a store grant. Its state, loss listeners and watchdog are {@link ManagedLease}'s,
 * and its request is the handle's own, as the grant carries it; this class only renews and
 * releases the grant in the store, through its client's {@link StoreReleases}.
 */
final class StoreLease extends ManagedLease {
    private final StoreLockClient client;
    private final StoreReleases store;
    private final Grant grant;

    StoreLease(StoreLockClient client, StoreReleases store, LeaseHost host, Grant grant, long countFromNanos) {
        super(host, grant.request().lease(), grant.token(), countFromNanos);
        this.client = client;
        this.store = store;
        this.grant = grant;
    }

    StoreLockClient client() {
        return client;
    }

    Grant grant() {
        return grant;
    }

    /** Synchronous: the store's renewal runs on the watchdog's thread. */
    @Override
    protected CompletableFuture<RenewOutcome> renewInBackend() {
        if (store.crashed()) {
            return CompletableFuture.completedFuture(RenewOutcome.unknown(null));
        }
        RenewOutcome outcome;
        try {
            outcome = store.renew(grant)
                    ? RenewOutcome.renewed()
                    : RenewOutcome.refused("the store no longer has it (it expired or was revoked)");
        } catch (RuntimeException e) {
            outcome = RenewOutcome.unknown(e);
        }
        return CompletableFuture.completedFuture(outcome);
    }

    @Override
    protected void releaseInBackend() {
        if (!store.release(grant)) {
            throw new LockLostException(describe() + " was lost before it was released: the store no longer had it");
        }
    }

    @Override
    protected String describe() {
        return grant.request().describe() + " (token " + grant.token() + ")";
    }
}
