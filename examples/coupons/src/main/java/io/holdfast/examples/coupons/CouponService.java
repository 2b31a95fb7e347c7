package io.holdfast.examples.coupons;

import io.holdfast.AcquireOptions;
import io.holdfast.ConflictException;
import io.holdfast.HoldfastException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.NotOwnerException;
import io.holdfast.RetryPolicy;
import io.holdfast.SessionExpiredException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance of the coupon service: {@link #redeem} gives a user one coupon of a campaign, if the
 * campaign has stock left and the user is under the campaign's limit, following one {@link Strategy}.
 *
 * <p>Every redemption is a read-modify-write of the campaign: read its stock count, the user's count and
 * the first free coupon; do the service's own work (a payment check, say: {@code work}); then write the
 * coupon, the redemption and the new count. The campaign row is the aggregate every write goes through,
 * so each strategy guards that row:
 *
 * <ul>
 *   <li><b>pessimistic</b>: hold {@code coupons/campaign/ID}; stamp the row with the lease's fencing token
 *       before reading ({@code fence_token < token}); write only where {@code fence_token = token}. A holder
 *       whose lease expired while it was stopped finds a newer token on the row and writes nothing.
 *       Stamping before reading matters: a fence checked only at write time would let a new holder act on
 *       a read taken before the old holder's late write.
 *   <li><b>optimistic</b>: read the row's version first, then the rest; write only where {@code version}
 *       is unchanged, else back off (exponential, full jitter) and start over.
 *   <li><b>none</b>: write what was read.
 * </ul>
 *
 * <p><b>Guarantees</b> (pessimistic and optimistic): no coupon is handed out twice, no campaign goes over
 * its stock and no user over its limit, whatever the timing of instances, pauses and lease expiries,
 * because every write is conditional on the row being as it was read (optimistic) or still fenced by
 * this holder (pessimistic). <b>Not guaranteed</b>: progress. A pessimistic holder that is stopped holds
 * up its campaign for the lease; optimistic requests can give up after {@code maxAttempts} conflicts.
 *
 * <p><b>Failure story.</b> An instance takes the lock with token 17, reads that coupon {@code C0001-000042}
 * is free, and is stopped for 5 s. Its 2 s lease expires; another instance takes the lock with token 23,
 * stamps the row, hands out {@code C0001-000042}. The first instance resumes and writes: its UPDATE finds
 * {@code fence_token = 23}, matches no row, and the transaction rolls back ({@link Outcome#STALE_REFUSED}).
 */
final class CouponService {
    private static final Logger log = LoggerFactory.getLogger(CouponService.class);

    /** How the service runs; see {@link CouponsDemo.Options} for the meaning of each. */
    record Settings(
            Strategy strategy,
            int instance,
            Duration work,
            Duration lease,
            Duration lockWait,
            int maxAttempts,
            boolean fencing) {}

    /** Counters beyond the outcomes. */
    static final class Counters {
        final AtomicLong conflicts = new AtomicLong();
        final AtomicLong lockWaitNanos = new AtomicLong();
        final AtomicLong lockHeldNanos = new AtomicLong();
        final AtomicLong grants = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
    }

    private final DataSource db;
    private final Clients clients;
    private final Settings settings;
    private final PausePoint pause;
    private final Counters counters = new Counters();
    private final RetryPolicy retries;

    CouponService(DataSource db, Clients clients, Settings settings, PausePoint pause) {
        this.db = db;
        this.clients = clients;
        this.settings = settings;
        this.pause = pause;
        // Exponential backoff with full jitter, 1 ms to 50 ms, for at most maxAttempts attempts.
        this.retries = new RetryPolicy(
                Duration.ofMillis(1), Duration.ofMillis(50), 2.0, 1.0, settings.maxAttempts(), Duration.ofHours(1));
    }

    Counters counters() {
        return counters;
    }

    /** Redeems one coupon of {@code campaign} for {@code user}. Never throws but for interruption. */
    Outcome redeem(long user, int campaign) throws InterruptedException {
        try {
            // Sold out is final: an unguarded read may refuse early, it can never grant wrongly.
            try (Connection c = db.getConnection()) {
                if (CouponDb.campaign(c, campaign).soldOut()) {
                    return Outcome.SOLD_OUT;
                }
            }
            switch (settings.strategy()) {
                case PESSIMISTIC:
                    return pessimistic(user, campaign, true);
                case OPTIMISTIC:
                    return optimistic(user, campaign);
                default:
                    return unguarded(user, campaign, 0L);
            }
        } catch (SQLException | RuntimeException e) {
            if (counters.errors.incrementAndGet() <= 5) {
                log.warn("redeem user={} campaign={} failed: {}", user, campaign, e.toString());
            }
            return Outcome.ERROR;
        }
    }

    private Outcome pessimistic(long user, int campaign, boolean firstTry) throws InterruptedException, SQLException {
        LockClient client = clients.get();
        Lease lease;
        long asked = System.nanoTime();
        try {
            lease = client.lock("coupons/campaign/" + campaign)
                    .acquire(AcquireOptions.waitUpTo(settings.lockWait()).withLeaseTimeout(settings.lease()));
        } catch (LockTimeoutException e) {
            return Outcome.GAVE_UP;
        } catch (SessionExpiredException e) {
            // This instance was stopped longer than its session TTL: a new session, and one more try.
            clients.expired(client);
            if (firstTry) {
                return pessimistic(user, campaign, false);
            }
            throw e;
        } finally {
            counters.lockWaitNanos.addAndGet(System.nanoTime() - asked);
        }
        long granted = System.nanoTime();
        counters.grants.incrementAndGet();
        try {
            long token = lease.fencingToken();
            if (!settings.fencing()) {
                return unguarded(user, campaign, token);
            }
            try (Connection c = db.getConnection()) {
                if (!CouponDb.claim(c, campaign, token)) {
                    return Outcome.STALE_REFUSED;
                }
                CouponDb.Campaign row = CouponDb.campaign(c, campaign);
                String coupon = check(c, row, user);
                if (coupon.isEmpty()) {
                    return row.soldOut() ? Outcome.SOLD_OUT : Outcome.LIMIT_REACHED;
                }
                work();
                pause.reached("campaign=" + campaign + " token=" + token + " coupon=" + coupon);
                return inTransaction(c, () -> {
                    if (!CouponDb.writeFenced(c, campaign, row.redeemed() + 1, token)) {
                        pause.wrote("refused: the row carries a newer fencing token than " + token);
                        return Outcome.STALE_REFUSED;
                    }
                    CouponDb.hand(c, campaign, coupon, user, settings.instance(), token);
                    pause.wrote("written with token " + token);
                    return Outcome.REDEEMED;
                });
            }
        } finally {
            release(client, lease);
            counters.lockHeldNanos.addAndGet(System.nanoTime() - granted);
        }
    }

    private Outcome optimistic(long user, int campaign) throws InterruptedException, SQLException {
        try (Connection c = db.getConnection()) {
            return CouponDb.CAMPAIGNS.inTransaction(
                    c,
                    retries,
                    attempt -> {
                        // The version first: any write that commits after this read changes it, so the
                        // update below fails if anything read afterwards could be stale.
                        CouponDb.Campaign row = CouponDb.campaign(c, campaign);
                        String coupon = check(c, row, user);
                        if (coupon.isEmpty()) {
                            return row.soldOut() ? Outcome.SOLD_OUT : Outcome.LIMIT_REACHED;
                        }
                        work();
                        pause.reached("campaign=" + campaign + " version=" + row.version() + " coupon=" + coupon);
                        try {
                            CouponDb.CAMPAIGNS.update(c, campaign, row.version(), "redeemed = ?", row.redeemed() + 1);
                        } catch (ConflictException e) {
                            pause.wrote(
                                    "conflict: the campaign's version is no longer " + row.version() + "; retrying");
                            throw e;
                        }
                        CouponDb.hand(c, campaign, coupon, user, settings.instance(), 0L);
                        pause.wrote("written at version " + row.version());
                        return Outcome.REDEEMED;
                    },
                    conflict -> counters.conflicts.incrementAndGet());
        } catch (ConflictException gaveUp) {
            counters.conflicts.incrementAndGet();
            return Outcome.GAVE_UP;
        }
    }

    /** Strategy none (and pessimistic without its fencing check): write whatever was read. */
    private Outcome unguarded(long user, int campaign, long token) throws InterruptedException, SQLException {
        try (Connection c = db.getConnection()) {
            CouponDb.Campaign row = CouponDb.campaign(c, campaign);
            String coupon = check(c, row, user);
            if (coupon.isEmpty()) {
                return row.soldOut() ? Outcome.SOLD_OUT : Outcome.LIMIT_REACHED;
            }
            work();
            pause.reached("campaign=" + campaign + (token > 0 ? " token=" + token : "") + " coupon=" + coupon);
            CouponDb.writeBlind(c, campaign, row.redeemed() + 1);
            CouponDb.hand(c, campaign, coupon, user, settings.instance(), token);
            pause.wrote("written unchecked: " + coupon + " for user " + user);
            return Outcome.REDEEMED;
        }
    }

    /** The free coupon this user may have, or "" when sold out or over the limit. */
    private static String check(Connection c, CouponDb.Campaign row, long user) throws SQLException {
        if (row.soldOut() || CouponDb.userRedemptions(c, row.id(), user) >= row.perUser()) {
            return "";
        }
        String coupon = CouponDb.freeCoupon(c, row.id());
        return coupon == null ? "" : coupon;
    }

    private interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} in one transaction; a null result or a failure rolls it back. */
    private static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        c.setAutoCommit(false);
        boolean done = false;
        try {
            T result = work.run();
            if (result == Outcome.REDEEMED) {
                c.commit();
                done = true;
            }
            return result;
        } finally {
            if (!done) {
                c.rollback();
            }
            c.setAutoCommit(true);
        }
    }

    private void work() throws InterruptedException {
        long nanos = settings.work().toNanos();
        if (nanos > 0) {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        }
    }

    private void release(LockClient client, Lease lease) {
        try {
            lease.release();
        } catch (SessionExpiredException e) {
            clients.expired(client);
        } catch (HoldfastException | NotOwnerException e) {
            // lost while held (the fencing check already kept its write out) or unreachable: the lease
            // timeout frees it either way
            log.debug("release of {} failed: {}", lease.name(), e.toString());
        }
    }
}
