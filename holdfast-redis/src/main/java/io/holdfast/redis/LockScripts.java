package io.holdfast.redis;

import io.holdfast.LockMode;
import io.holdfast.store.LockRequest;
import io.lettuce.core.ScriptOutputType;
import java.util.Arrays;
import java.util.List;

/**
 * The lock scripts ({@code acquire.lua}, {@code release.lua}, {@code cancel.lua}, {@code
 * revoke.lua}, with {@code queue.lua}'s shared functions in front; {@code renew.lua}, {@code
 * check.lua}, {@code describe.lua}) and how one call of a lock is put to them: the keys of its name
 * ({@link RedisKeyLayout}), and the arguments in the order each script's header lists them. What a
 * reply means, and what the client does about it, is {@link RedisBackend}'s.
 *
 * <p>Guarantees: each method is one script, so one atomic step of Redis, bounded by {@link
 * RedisCalls} (a failure is {@link io.holdfast.UnavailableException}). Does not retry.
 */
final class LockScripts {
    private static final String QUEUE_LIBRARY = "queue";
    private static final LuaScript ACQUIRE = LuaScript.load("acquire", QUEUE_LIBRARY, ScriptOutputType.MULTI);
    private static final LuaScript RELEASE = LuaScript.load("release", QUEUE_LIBRARY, ScriptOutputType.INTEGER);
    private static final LuaScript CANCEL = LuaScript.load("cancel", QUEUE_LIBRARY, ScriptOutputType.INTEGER);
    private static final LuaScript REVOKE = LuaScript.load("revoke", QUEUE_LIBRARY, ScriptOutputType.INTEGER);
    private static final LuaScript RENEW = LuaScript.load("renew", ScriptOutputType.INTEGER);
    private static final LuaScript CHECK = LuaScript.load("check", ScriptOutputType.INTEGER);
    static final LuaScript DESCRIBE = LuaScript.load("describe", ScriptOutputType.MULTI);

    private final RedisCalls calls;
    private final RedisKeyLayout keys;
    private final String prefix;
    private final String channel;
    private final String session;
    private final String clientName;

    /**
     * @param channel where the scripts announce grants and revocations ({@code <prefix>events})
     * @param session this client's session, which its grants name
     */
    LockScripts(
            RedisCalls calls, RedisKeyLayout keys, String prefix, String channel, String session, String clientName) {
        this.calls = calls;
        this.keys = keys;
        this.prefix = prefix;
        this.channel = channel;
        this.session = session;
        this.clientName = clientName;
    }

    /**
     * One try ({@code waitMillis} 0) or one poll of a queued wait of {@code request}.
     *
     * @param floor the highest token this client has seen ({@link RedisGrants#floor()})
     * @return {@code {token, raised}}: token 0 when not granted; raised 1 when the token counter was
     *     below {@code floor}
     * @throws RedisCalls.SizeConflict when the name is in use with another number of permits
     */
    List<Object> acquire(LockRequest request, long waitMillis, String floor) {
        String name = request.name();
        return calls.run(
                ACQUIRE,
                request.describe(),
                queueKeys(name, true),
                request.owner(),
                modeCode(request.mode()),
                Integer.toString(request.permits()),
                Integer.toString(request.maxPermits()),
                Long.toString(millis(request)),
                floor,
                session,
                clientName,
                request.leaseTimeout() ? "1" : "0",
                Long.toString(waitMillis),
                channel,
                watchChannel(name));
    }

    /** Takes {@code request} off its queue, giving back a grant that raced it: 1 if it gave one back. */
    long cancel(LockRequest request, String floor) {
        return calls.<Long>run(
                CANCEL,
                "leave the queue of " + request.name(),
                queueKeys(request.name(), false),
                request.owner(),
                floor,
                channel,
                watchChannel(request.name()));
    }

    /** Pushes a grant's expiry a full expiry on: 1 if renewed, 0 if Redis no longer has it. */
    long renew(LockRequest request, long token) {
        return calls.<Long>run(
                RENEW,
                "renew " + request.describe(),
                new String[] {keys.holders(request.name())},
                request.owner(),
                Long.toString(token),
                Long.toString(millis(request)));
    }

    /** Gives a grant back and grants the next waiters: 1 if it was still live. */
    long release(LockRequest request, long token, String floor) {
        return calls.<Long>run(
                RELEASE,
                "release " + request.describe(),
                queueKeys(request.name(), false),
                request.owner(),
                Long.toString(token),
                floor,
                channel,
                watchChannel(request.name()));
    }

    /** An operator's revocation of every grant of {@code name}: how many live grants it ended. */
    long revoke(String name, String floor) {
        return calls.<Long>run(
                REVOKE, "revoke " + name, queueKeys(name, false), channel, name, floor, watchChannel(name));
    }

    /** Whether {@code token} is a live grant of {@code name}. */
    boolean check(String name, long token) {
        return calls.<Long>run(
                        CHECK, "check the holder of " + name, new String[] {keys.holders(name)}, Long.toString(token))
                == 1;
    }

    /** The keys of the queue scripts: holders, queue, waiters, token counter, and the arrival counter if asked. */
    private String[] queueKeys(String name, boolean arrivals) {
        String[] all = {
            keys.holders(name), keys.queue(name), keys.waiters(name), keys.counter(name), keys.arrivals(name)
        };
        return arrivals ? all : Arrays.copyOf(all, 4);
    }

    /** Where the scripts tell the watches of {@code name} that it changed ({@link RedisWatches}). */
    private String watchChannel(String name) {
        return RedisWatches.lockChannel(prefix, name);
    }

    private static String modeCode(LockMode mode) {
        return switch (mode) {
            case EXCLUSIVE -> "E";
            case SHARED -> "S";
            case PERMITS -> "P";
        };
    }

    private static long millis(LockRequest request) {
        return Math.max(1, request.expiry().toMillis());
    }
}
