package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The grants of one etcd client ({@link EtcdBackend}): what a key that holds becomes, with its
 * token and its lease, and how a grant is renewed and released.
 *
 * <p><b>Tokens.</b> The fencing token is the revision of the write that made the key a holder: the
 * key's creation if it held at once, otherwise a confirming rewrite of the key once it holds (a
 * waiter's creation revision is older than grants made to other names while it waited, so it
 * cannot serve). etcd's revision is store-wide and only grows, so tokens grow in grant order
 * across every name, and the holder's token is always its key's modification revision.
 *
 * <p><b>Leases.</b> A grant lives on the client's session lease ({@link EtcdSession}), as alive as
 * the session, unless it has a lease timeout: then the confirming write moves its key to an etcd
 * lease of its own, which the client's watchdog renews and a release revokes.
 *
 * <p><b>A failure story.</b> etcd stops answering while a key moves to its own lease: the move is
 * reported unavailable and its lease revoked in the background, so that if the move did land the
 * key goes with it, and the client's retry starts over from the queue.
 */
final class Grants {
    private static final Logger log = LoggerFactory.getLogger(Grants.class);

    /** What a grant needs to be renewed and released. */
    record Held(ByteSequence key, long createRevision, long leaseId, boolean ownLease, EtcdSession.Lease session) {}

    private final KV kv;
    private final io.etcd.jetcd.Lease leases;
    private final ClientOptions options;
    private final Calls calls;

    Grants(KV kv, io.etcd.jetcd.Lease leases, ClientOptions options, Calls calls) {
        this.kv = kv;
        this.leases = leases;
        this.options = options;
        this.calls = calls;
    }

    /**
     * Turns a key that holds into a grant, with its token (see the class comment), or returns empty
     * if the key changed meanwhile (the caller reads the queue again).
     */
    Optional<Grant> grant(LockRequest request, Acquirer.Attempt a) {
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

    Duration renewEvery(Grant grant) {
        Held h = (Held) grant.handle();
        return h.ownLease()
                ? grant.request().expiry().dividedBy(3)
                : options.sessionTtl().dividedBy(3);
    }

    /**
     * A grant on its own lease is renewed in etcd; a grant on the session lease is as alive as the
     * session, which the keep-alive thread watches, so it is answered without a call.
     */
    boolean renew(Grant grant) {
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

    boolean release(Grant grant) {
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

    /** Revokes an etcd lease of a grant's own in the background; if that fails, it expires by itself. */
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
}
