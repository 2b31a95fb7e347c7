package io.holdfast;

import java.time.Duration;

/**
 * How a {@link Keys#put} writes: against which version, and how long the key lives.
 *
 * <p>A put sets the key's lifetime afresh each time: without {@link #attached()} or {@link #ttl()}
 * the key lives until it is deleted, whatever the write before said.
 *
 * @param expectedVersion the version the key must have ({@code 0}: absent), or {@link
 *     Keys#ANY_VERSION}
 * @param attached whether the key belongs to this client's session: it is deleted in the same step
 *     as the session ends (closed, expired or ended by an operator), and watchers are told why
 *     (ZooKeeper's ephemeral node, a key on etcd's lease, a Consul session's key)
 * @param ttl how long the key lives after this write (ZooKeeper's TTL node); {@link Duration#ZERO}
 *     for no limit; else {@value Keys#MIN_TTL_SECONDS} s to {@value Keys#MAX_TTL_DAYS} days
 */
public record PutOptions(long expectedVersion, boolean attached, Duration ttl) {
    private static final PutOptions ANY = new PutOptions(Keys.ANY_VERSION, false, Duration.ZERO);

    public PutOptions {
        if (expectedVersion < Keys.ANY_VERSION) {
            throw new InvalidArgumentException(
                    "the expected version must be 0 or more, or ANY_VERSION, not " + expectedVersion);
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
    }

    /** Whatever the key's version; lives until deleted. */
    public static PutOptions any() {
        return ANY;
    }

    /** Only if the key's version is {@code version} (0: only if absent). */
    public static PutOptions ifVersion(long version) {
        if (version < 0) {
            throw new InvalidArgumentException("the expected version must be 0 or more, not " + version);
        }
        return new PutOptions(version, false, Duration.ZERO);
    }

    /** Only if the key is absent (version 0). */
    public static PutOptions ifAbsent() {
        return ifVersion(0);
    }

    /** The same write, the key attached to this client's session. */
    public PutOptions attach() {
        return new PutOptions(expectedVersion, true, ttl);
    }

    /** The same write, the key living {@code timeToLive} after it. */
    public PutOptions ttl(Duration timeToLive) {
        return new PutOptions(expectedVersion, attached, timeToLive);
    }
}
