package io.holdfast;

import java.time.Duration;

/**
 * How a {@link Keys#put} writes: against which version, and how long the key lives.
 *
 * <p>A put that names no lifetime ({@link Lifetime#KEEP}, what {@link #any()}, {@link #ifVersion}
 * and {@link #ifAbsent} make) keeps the key's: a key attached to a session stays attached to that
 * session, whoever writes it, and a key with a time to live keeps its deadline, as ZooKeeper's
 * {@code setData} keeps a node ephemeral and etcd's {@code Put(WithIgnoreLease)} keeps the key's
 * lease; a key that was absent lives until it is deleted. A put that names one sets it afresh:
 * {@link #attach()} to this client's session, {@link #lease(String)} to another open session of the
 * same identity (several keys, written by several clients, sharing one lifetime: etcd's {@code
 * Put(WithLease)}), {@link #detach()} to none (until deleted, as etcd's {@code Put} without a
 * lease), {@link #ttl(Duration)} for a time.
 *
 * <p>A lease is a session (ADR 0006): the write stays the writer's (its request id, its reply),
 * only the key's owner is the lease. It is checked where the write is applied: a lease that is not
 * an open session is a conflict ({@link ConflictException}, never {@link SessionExpiredException},
 * which says the writer's own session is gone), one opened by another identity is {@link
 * PermissionDeniedException} (an admin may name any), and one that owns the keys-per-session limit
 * already is {@link QuotaExceededException}. A cluster with a member older than protocol version 10
 * refuses such a put ({@link UnsupportedFeatureException}).
 *
 * <p>Failure story: a service registers {@code services/web/i-17} with {@code attach()}, then
 * updates its value with a plain put; it is SIGKILLed, its session's TTL passes, and the key goes
 * with the session, as it would have without the update. Before this rule, the update made the key
 * live for ever.
 *
 * @param expectedVersion the version the key must have ({@code 0}: absent), or {@link
 *     Keys#ANY_VERSION}
 * @param lifetime whether the write keeps the key's lifetime, attaches it to this client's session
 *     (deleted in the same step as the session ends, closed, expired or ended by an operator, and
 *     watchers are told why: ZooKeeper's ephemeral node, a key on etcd's lease, a Consul session's
 *     key) or detaches it; never {@link Lifetime#KEEP} with a time to live
 * @param ttl how long the key lives after this write (ZooKeeper's TTL node); {@link Duration#ZERO}
 *     for no limit; else {@value Keys#MIN_TTL_SECONDS} s to {@value Keys#MAX_TTL_DAYS} days
 * @param lease the id of the open session the key is attached to instead of this client's (null:
 *     this client's, when attached); only with {@link Lifetime#ATTACH} and no time to live
 */
public record PutOptions(long expectedVersion, Lifetime lifetime, Duration ttl, String lease) {
    /** What a put does to the key's lifetime. */
    public enum Lifetime {
        /** The key's lifetime as it is (its session, its deadline); a new key lives until deleted. */
        KEEP,
        /** Attached to this client's session, deleted in the same step as the session ends. */
        ATTACH,
        /** Attached to no session: lives until deleted, or until its time to live passes. */
        DETACH
    }

    private static final PutOptions ANY = new PutOptions(Keys.ANY_VERSION, Lifetime.KEEP, Duration.ZERO);

    /** The longest lease id (a session id) a put may name. */
    public static final int MAX_LEASE_LENGTH = 128;

    /** A time to live names a lifetime: {@link Lifetime#KEEP} with one is {@link Lifetime#DETACH}. */
    public PutOptions {
        if (expectedVersion < Keys.ANY_VERSION) {
            throw new InvalidArgumentException(
                    "the expected version must be 0 or more, or ANY_VERSION, not " + expectedVersion);
        }
        if (lifetime == null) {
            throw new InvalidArgumentException("the lifetime must not be null (KEEP: the key's own)");
        }
        if (ttl == null) {
            throw new InvalidArgumentException("the time to live must not be null (Duration.ZERO: none)");
        }
        if (!ttl.isZero()
                && (ttl.compareTo(Duration.ofSeconds(Keys.MIN_TTL_SECONDS)) < 0
                        || ttl.compareTo(Duration.ofDays(Keys.MAX_TTL_DAYS)) > 0)) {
            throw new InvalidArgumentException("a key's time to live is " + Keys.MIN_TTL_SECONDS + " s to "
                    + Keys.MAX_TTL_DAYS + " days, not " + io.holdfast.internal.DurationText.format(ttl));
        }
        if (lifetime == Lifetime.KEEP && !ttl.isZero()) {
            lifetime = Lifetime.DETACH;
        }
        if (lease != null) {
            if (lease.isBlank() || lease.length() > MAX_LEASE_LENGTH) {
                throw new InvalidArgumentException(
                        "a lease is the id of an open session, 1 to " + MAX_LEASE_LENGTH + " characters");
            }
            if (lifetime != Lifetime.ATTACH || !ttl.isZero()) {
                throw new InvalidArgumentException(
                        "a put on a lease lives as long as the lease: it takes no time to live and no other lifetime");
            }
        }
    }

    /** Options without a lease: {@code lifetime} as it says (attached: to this client's session). */
    public PutOptions(long expectedVersion, Lifetime lifetime, Duration ttl) {
        this(expectedVersion, lifetime, ttl, null);
    }

    /**
     * The options of releases before the three lifetimes: attached, or else the key's lifetime kept
     * (a time to live detaches it).
     */
    public PutOptions(long expectedVersion, boolean attached, Duration ttl) {
        this(expectedVersion, attached ? Lifetime.ATTACH : Lifetime.KEEP, ttl);
    }

    /** Whatever the key's version; keeps the key's lifetime. */
    public static PutOptions any() {
        return ANY;
    }

    /** Only if the key's version is {@code version} (0: only if absent); keeps the key's lifetime. */
    public static PutOptions ifVersion(long version) {
        if (version < 0) {
            throw new InvalidArgumentException("the expected version must be 0 or more, not " + version);
        }
        return new PutOptions(version, Lifetime.KEEP, Duration.ZERO);
    }

    /** Only if the key is absent (version 0). */
    public static PutOptions ifAbsent() {
        return ifVersion(0);
    }

    /** Whether the write attaches the key to this client's session. */
    public boolean attached() {
        return lifetime == Lifetime.ATTACH;
    }

    /** The same write, the key attached to this client's session (no other lease). */
    public PutOptions attach() {
        return new PutOptions(expectedVersion, Lifetime.ATTACH, ttl);
    }

    /**
     * The same write, the key attached to the session {@code sessionId} (a lease: another client's,
     * or one kept open for it) and deleted in the same step as that session ends.
     *
     * @throws InvalidArgumentException if {@code sessionId} is null or blank, or the options have a
     *     time to live
     */
    public PutOptions lease(String sessionId) {
        if (sessionId == null) {
            throw new InvalidArgumentException("a lease must not be null (attach(): this client's session)");
        }
        return new PutOptions(expectedVersion, Lifetime.ATTACH, ttl, sessionId);
    }

    /** The same write, the key attached to no session (etcd's {@code Put} without a lease). */
    public PutOptions detach() {
        return new PutOptions(expectedVersion, Lifetime.DETACH, ttl);
    }

    /** The same write, the key living {@code timeToLive} after it (not attached unless {@link #attach()} says so). */
    public PutOptions ttl(Duration timeToLive) {
        return new PutOptions(expectedVersion, lifetime, timeToLive);
    }
}
