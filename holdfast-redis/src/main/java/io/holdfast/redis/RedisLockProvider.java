package io.holdfast.redis;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.spi.LockProvider;
import io.holdfast.store.StoreLockClient;

/**
 * The Holdfast lock API over one Redis primary: {@code redis://host:port[/db]}, {@code
 * rediss://...} for TLS, or {@code redis-sentinel://s1,s2,s3?master=NAME} to find the primary
 * through Sentinels and follow it through failovers; found by {@link java.util.ServiceLoader} through {@link
 * LockClient#open(String, ClientOptions)}.
 *
 * <p><b>URI.</b> {@code redis[s]://[[user]:password@]host[:port][/database][?prefix=P&verifyPeer=V]}.
 * {@code prefix} (default {@code holdfast:}) starts every key and channel the provider uses, so
 * several applications can share one Redis without meeting; {@code verifyPeer} ({@code full},
 * {@code ca}, {@code none}) applies to {@code rediss} only. {@code
 * redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/database]?master=NAME} names the
 * Sentinels and the primary's name ({@code sentinelPassword} for the Sentinels' own). {@code
 * replicas=N} (default 1 through Sentinels, else 0) makes every grant, renewal and register write
 * wait until N replicas have it ({@code WAIT}) before it counts. Anything else in the query is
 * refused.
 *
 * <p><b>What it guarantees</b>, with one healthy Redis master: at most one exclusive holder of a
 * name at a time (or readers together, or at most N permits); a fencing token on every grant that
 * is larger than every earlier token of the same Redis (one counter for all names); waiters served
 * in arrival order, the next one granted in the step that frees the lock; a holder whose process
 * dies loses its grant once its expiry passes by Redis's clock (the session TTL, or the lease
 * timeout if one was asked for); a live holder keeps it through the client's watchdog; operator
 * calls to list, describe and revoke locks and to ask "is token T still the holder of L?".
 *
 * <p><b>What it does not guarantee</b>: mutual exclusion across a failover or a restart that lost
 * writes. Redis replicates asynchronously, so a replica promoted after its primary died may not
 * have the latest grants (with {@code replicas=N}, only if it is not one of the N that had them)
 * and can grant a lock a second time; a Redis without persistence that
 * restarts has forgotten every grant. Fencing tokens are the defence, and they survive both: the
 * counter never falls below 1024 × Redis's clock in milliseconds, so the tokens after the loss are
 * above the lost ones (unless Redis's clock went back by more than the outage lasted). There is no deadlock detection or lock-delay. See {@code
 * docs/providers/redis.md}.
 *
 * <p><b>A failure story.</b> A holder's host freezes for longer than its session TTL. Its grant
 * expires in Redis; a waiter takes the lock with a larger token and writes. When the frozen host
 * wakes, its watchdog finds the grant gone and tells it the lease was lost; if it writes before
 * noticing, a resource that checks tokens refuses it.
 */
public final class RedisLockProvider implements LockProvider {
    @Override
    public String name() {
        return "redis";
    }

    @Override
    public boolean accepts(String uri) {
        return RedisSettings.accepts(uri);
    }

    /**
     * Connects to Redis.
     *
     * @throws InvalidArgumentException if the URI is malformed (the message names what is wrong)
     * @throws io.holdfast.UnavailableException if Redis cannot be reached within the request timeout
     */
    @Override
    public LockClient open(String uri, ClientOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("client options must not be null");
        }
        RedisSettings settings = RedisSettings.parse(uri);
        return new StoreLockClient(RedisBackend.connect(settings, options), options);
    }

    @Override
    public String toString() {
        return "RedisLockProvider[redis://, rediss://, redis-sentinel://]";
    }
}
