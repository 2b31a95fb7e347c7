package io.holdfast.examples.coupons;

/** What one redemption request came to. */
public enum Outcome {
    /** The user got a coupon. */
    REDEEMED,
    /** The campaign had no coupon left. */
    SOLD_OUT,
    /** The user already had as many coupons of this campaign as it allows. */
    LIMIT_REACHED,
    /**
     * Pessimistic only: the instance's lock had passed to a newer holder (its lease ran out while it was
     * stopped), and the fencing check refused its write. Nothing was written.
     */
    STALE_REFUSED,
    /** The lock did not come within the wait, or optimistic retries ran out. Nothing was written. */
    GAVE_UP,
    /** The database or the lock service failed the request. Nothing was written (the transaction rolled back). */
    ERROR
}
