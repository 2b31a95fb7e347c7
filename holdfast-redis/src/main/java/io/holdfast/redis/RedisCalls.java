package io.holdfast.redis;

import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * How the provider talks to Redis: every call is asynchronous under the hood and awaited for at
 * most the client's request timeout; an interrupt does not cut a call short (Redis may already
 * have acted on it, and the caller must learn what it did) but is restored afterwards. Failures of
 * the connection, timeouts and Redis errors become {@link UnavailableException}; a script's own
 * refusal ({@code HOLDFAST_SIZE}) becomes {@link SizeConflict}. Once {@linkplain #stop stopped}
 * (crashed or closed), nothing more is sent.
 */
final class RedisCalls {
    /** The longest {@code WAIT} for replicas ({@link #awaitReplicas}). */
    private static final long MAX_REPLICA_WAIT_MILLIS = 2_000;

    private final String display;
    private final ClientOptions options;
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile String stopped;

    /** On a Redis Cluster whose writes wait for replicas: the connection of the primary of a key's slot. */
    private volatile Function<String, RedisClusterAsyncCommands<String, String>> primaries;

    /** The connection of this thread's last script, when scripts go to {@link #primaries}. */
    private final ThreadLocal<RedisClusterAsyncCommands<String, String>> lastScript = new ThreadLocal<>();

    RedisCalls(String display, ClientOptions options) {
        this.display = display;
        this.options = options;
    }

    void connected(RedisClusterAsyncCommands<String, String> commands) {
        this.commands = commands;
    }

    /**
     * Sends every script to the primary of its first key's slot on that primary's own connection
     * ({@code primaries}), so that {@link #awaitReplication} can ask the same connection: {@code
     * WAIT} counts the writes of the connection it is sent on.
     */
    void pinScriptsToPrimaries(Function<String, RedisClusterAsyncCommands<String, String>> primaries) {
        this.primaries = primaries;
    }

    /** From now on every call fails with {@code why}, without reaching Redis. */
    void stop(String why) {
        stopped = why;
    }

    /**
     * Sends one command and awaits its reply (see {@link #await}). A command Lettuce refuses to send
     * (through Sentinels, "Master is currently unknown" while a failover is under way) is {@link
     * UnavailableException} too, as a failed reply is.
     */
    <T> T call(String what, Function<RedisClusterAsyncCommands<String, String>, RedisFuture<T>> command) {
        String why = stopped;
        if (why != null) {
            throw new UnavailableException(why);
        }
        RedisFuture<T> future;
        try {
            future = command.apply(commands);
        } catch (RedisException e) {
            throw translate(what, e);
        }
        return await(what, future);
    }

    /** Runs a script by its SHA-1, sending its text if Redis does not have it (after a restart). */
    <T> T run(LuaScript script, String what, String[] keys, String... args) {
        try {
            return call(what, c -> script.<T>evalsha(to(c, keys), keys, args));
        } catch (NoScript e) {
            return call(what, c -> script.<T>eval(to(c, keys), keys, args));
        }
    }

    /** Where a script goes: {@code commands}, or the primary of its keys (then remembered for this thread). */
    private RedisClusterAsyncCommands<String, String> to(
            RedisClusterAsyncCommands<String, String> commands, String[] keys) {
        Function<String, RedisClusterAsyncCommands<String, String>> pinned = primaries;
        if (pinned == null) {
            return commands;
        }
        RedisClusterAsyncCommands<String, String> primary = pinned.apply(keys[0]);
        lastScript.set(primary);
        return primary;
    }

    /**
     * Waits until {@code wanted} replicas have every write of this thread's connection so far
     * (Redis {@code WAIT}, for at most half the request timeout and never more than 2 s: the
     * connection is blocked meanwhile); at once when {@code wanted} is 0.
     *
     * @throws UnavailableException if fewer replicas have it by then; the write stays on the
     *     primary, and a failover may or may not keep it
     */
    void awaitReplicas(String what, int wanted) {
        if (wanted == 0) {
            return;
        }
        long waitMillis = Math.max(1, Math.min(options.requestTimeout().toMillis() / 2, MAX_REPLICA_WAIT_MILLIS));
        long got = awaitReplication("wait until " + wanted + " replica(s) have " + what, wanted, waitMillis);
        if (got < wanted) {
            throw new UnavailableException("redis: " + what + " reached " + got + " of the " + wanted
                    + " replica(s) it needs (replicas=" + wanted + ") within " + waitMillis + " ms at " + display
                    + "; not acknowledged");
        }
    }

    /**
     * Redis {@code WAIT}: how many replicas have every write of the connection this thread's last
     * script went to, waiting up to {@code millis} for {@code replicas} of them.
     */
    long awaitReplication(String what, int replicas, long millis) {
        RedisClusterAsyncCommands<String, String> last = primaries == null ? null : lastScript.get();
        return call(what, c -> (last == null ? c : last).waitForReplication(replicas, millis));
    }

    /**
     * Waits for a reply up to the request timeout. An interrupt does not end the wait early (Redis
     * may already have acted, and the caller must learn what it did) but is restored afterwards.
     */
    <T> T await(String what, RedisFuture<T> future) {
        long timeout = options.requestTimeout().toNanos();
        long start = options.ticker().nanos();
        long remaining = timeout;
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get(remaining, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                    remaining = Math.max(1, timeout - (options.ticker().nanos() - start));
                } catch (TimeoutException e) {
                    future.cancel(true);
                    throw new UnavailableException("redis: " + display + " did not answer (" + what + ") within "
                            + options.requestTimeout().toMillis() + " ms");
                } catch (ExecutionException e) {
                    throw translate(what, e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private RuntimeException translate(String what, Throwable cause) {
        if (cause instanceof RedisNoScriptException) {
            return new NoScript();
        }
        String message = String.valueOf(cause.getMessage());
        if (cause instanceof RedisCommandExecutionException && message.startsWith("HOLDFAST_SIZE ")) {
            return new SizeConflict(message.substring("HOLDFAST_SIZE ".length()).trim());
        }
        return new UnavailableException(
                io.holdfast.internal.Causes.append(
                        "redis: " + what + " failed at " + display + ": " + message,
                        io.holdfast.internal.Causes.deepest(cause.getCause())),
                cause);
    }

    /** Redis does not know a script's SHA-1 yet. */
    private static final class NoScript extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NoScript() {
            super("NOSCRIPT", null, false, false);
        }
    }

    /** A live holder uses the name with another number of permits. */
    static final class SizeConflict extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String permits;

        SizeConflict(String permits) {
            super("HOLDFAST_SIZE", null, false, false);
            this.permits = permits;
        }

        String permits() {
            return permits;
        }
    }
}
