package io.holdfast.redis;

import io.holdfast.ClientOptions;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.lease.Retries;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.masterreplica.MasterReplica;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.pubsub.api.async.RedisPubSubAsyncCommands;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider's way to Redis, whatever the URI's kind (plain, TLS, Sentinels, a cluster): one
 * Lettuce client on the shared event loops, a connection for commands and one subscribed to the
 * events channel (and to the channels of the client's watches, {@link RedisWatches}).
 *
 * <p>On a Redis Cluster, the command connection sends each command to the primary of its keys'
 * slot and follows MOVED and ASK redirects; it asks for the topology every {@link
 * #TOPOLOGY_REFRESH}, and at once (at most every {@link #ADAPTIVE_REFRESH_GAP}) after a redirect, a
 * node that stays unreachable or a slot without a node, so after a failover commands go to the
 * promoted replica. With replicas to wait for, scripts go to the primary of their slot on its own
 * connection ({@link RedisCalls#pinScriptsToPrimaries}), where the {@code WAIT} that follows them
 * counts their writes. The subscription is plain (not sharded) pub/sub on one node: a cluster relays
 * every {@code PUBLISH} to every node, and Lettuce reconnects it to another node if that one dies
 * and subscribes again.
 *
 * <p>Opening is bounded by the connect timeout, the commands afterwards by the request timeout.
 * Through Sentinels, commands go to the current primary: Lettuce follows the Sentinels'
 * announcements of a failover and sends later commands to the promoted replica; the subscription
 * needs no primary (a replica relays what the primary publishes) and asks the Sentinels again
 * whenever it reconnects. An open that meets a failover under way (the primary the Sentinels name
 * refuses connections, or Lettuce knows no primary yet) asks them again, with the client's retry
 * policy's delays, until the connect timeout is spent. So does an open whose connection closed
 * during its handshake ("Connection closed prematurely", or "RedisHandshakeHandler not registered"
 * when the closed channel's pipeline is already empty): Lettuce reports that when the channel
 * closes before the handshake's outcome is recorded, which its own failed handshake can cause (it
 * closes the channel first and records why after), so a refused password once surfaced as that
 * instead of Redis's WRONGPASS; the next attempt names the real cause.
 */
final class RedisLink {
    private static final Logger log = LoggerFactory.getLogger(RedisLink.class);

    /** Lettuce's words for a master-replica connection that knows no primary. */
    private static final String NO_PRIMARY = "Master is currently unknown";

    /** Lettuce's words for a connection that closed before its handshake had an outcome. */
    private static final String HANDSHAKE_CUT_SHORT = "Connection closed prematurely";

    /**
     * Lettuce's words for the same race seen from the other side: the channel connected, but by the
     * time Lettuce looked for its handshake handler the closed channel's pipeline had dropped it.
     */
    private static final String HANDSHAKE_HANDLER_GONE = "RedisHandshakeHandler not registered";

    /** How often a cluster client asks for the topology even when nothing prompts it. */
    private static final java.time.Duration TOPOLOGY_REFRESH = java.time.Duration.ofSeconds(5);

    /** The least time between two refreshes of a cluster's topology that redirects or failures prompt. */
    private static final java.time.Duration ADAPTIVE_REFRESH_GAP = java.time.Duration.ofMillis(500);

    private final AbstractRedisClient client;
    private final StatefulConnection<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> subscription;

    private RedisLink(
            AbstractRedisClient client,
            StatefulConnection<String, String> commands,
            StatefulRedisPubSubConnection<String, String> subscription) {
        this.client = client;
        this.commands = commands;
        this.subscription = subscription;
    }

    /** Told of a message for the watches: on a channel, or on one that matched a pattern. */
    @FunctionalInterface
    interface WatchMessages {
        void told(String channelOrPattern, boolean pattern);
    }

    /**
     * Connects, hands the command connection to {@code calls}, and subscribes to {@code channel}.
     *
     * @param reconnected run whenever a connection comes back (messages may have been missed)
     * @param onMessage every message on the channel
     * @param onWatched every message on the channels and patterns of {@link #subscribe}
     * @throws UnavailableException if Redis cannot be reached (or refuses the credentials) within
     *     the client's connect timeout
     */
    static RedisLink open(
            RedisSettings settings,
            ClientOptions options,
            RedisCalls calls,
            String channel,
            Runnable reconnected,
            Consumer<String> onMessage,
            WatchMessages onWatched) {
        long start = options.ticker().nanos();
        long connectTimeout = options.connectTimeout().toNanos();
        // Only the connect timeout bounds an open, not the policy's attempts or elapsed time.
        RetryPolicy delays = options.retryPolicy();
        RetryPolicy untilConnectTimeout = new RetryPolicy(
                delays.initialDelay(),
                delays.maxDelay(),
                delays.multiplier(),
                delays.jitter(),
                1000,
                options.connectTimeout());
        try {
            return Retries.of(untilConnectTimeout, options.ticker())
                    .within(() -> connectTimeout - (options.ticker().nanos() - start))
                    .onRetry((e, attempt, pause) -> {
                        if (handshakeCutShort(e)) {
                            log.debug(
                                    "redis: the connection to {} closed during its handshake; trying again",
                                    settings.display(),
                                    e);
                        } else {
                            log.debug(
                                    "redis: no primary to reach through {} yet; asking the Sentinels again",
                                    settings.display(),
                                    e);
                        }
                    })
                    .call(
                            attempt -> openOnce(settings, options, calls, channel, reconnected, onMessage, onWatched),
                            e -> handshakeCutShort(e) || (settings.sentinel() && failoverUnderWay(e)));
        } catch (RuntimeException e) {
            throw unavailable(settings, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(settings, (RuntimeException) e.getCause());
        }
    }

    private static RedisLink openOnce(
            RedisSettings settings,
            ClientOptions options,
            RedisCalls calls,
            String channel,
            Runnable reconnected,
            Consumer<String> onMessage,
            WatchMessages onWatched) {
        AbstractRedisClient client = settings.cluster()
                ? RedisClusterClient.create(SharedResources.acquire(), clusterNodes(settings, options))
                : RedisClient.create(SharedResources.acquire(), uri(settings.redisUri(), options));
        StatefulConnection<String, String> commands = null;
        StatefulRedisPubSubConnection<String, String> subscription = null;
        try {
            client.addListener(new RedisConnectionStateListener() {
                @Override
                public void onRedisConnected(io.lettuce.core.RedisChannelHandler<?, ?> handler, SocketAddress address) {
                    reconnected.run();
                }
            });
            if (client instanceof RedisClusterClient cluster) {
                cluster.setOptions(ClusterClientOptions.builder(clientOptions(settings, options))
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enablePeriodicRefresh(TOPOLOGY_REFRESH)
                                // Lettuce 7 turns on every adaptive trigger by default (a MOVED or
                                // ASK redirect, a node that stays unreachable, a slot without a
                                // node, an unknown node): the topology is asked for at once.
                                .adaptiveRefreshTriggersTimeout(ADAPTIVE_REFRESH_GAP)
                                .refreshTriggersReconnectAttempts(2)
                                .build())
                        .build());
                StatefulRedisClusterConnection<String, String> c = cluster.connect(StringCodec.UTF8);
                commands = c;
                calls.connected(c.async());
                if (settings.replicas() > 0) {
                    calls.pinScriptsToPrimaries(key -> primaryOf(c, key));
                }
                subscription = cluster.connectPubSub(StringCodec.UTF8);
            } else {
                RedisClient single = (RedisClient) client;
                single.setOptions(clientOptions(settings, options));
                StatefulRedisConnection<String, String> c = settings.sentinel()
                        ? MasterReplica.connect(single, StringCodec.UTF8, uri(settings.redisUri(), options))
                        : single.connect(StringCodec.UTF8);
                commands = c;
                calls.connected(c.async());
                if (settings.sentinel()) {
                    // Connected while a failover is under way, Lettuce may know no primary yet: fail
                    // this attempt here rather than the first command.
                    calls.call("reach the primary", r -> r.ping());
                }
                subscription = single.connectPubSub(StringCodec.UTF8);
            }
            commands.setTimeout(options.requestTimeout());
            subscription.setTimeout(options.requestTimeout());
            subscription.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String from, String message) {
                    if (from.equals(channel)) {
                        onMessage.accept(message);
                    } else {
                        onWatched.told(from, false);
                    }
                }

                @Override
                public void message(String pattern, String from, String message) {
                    onWatched.told(pattern, true);
                }
            });
            calls.await("subscribe to " + channel, subscription.async().subscribe(channel));
            return new RedisLink(client, commands, subscription);
        } catch (RuntimeException e) {
            new RedisLink(client, commands, subscription).close(false);
            throw e;
        }
    }

    /**
     * The connection to the primary that serves {@code key}'s slot, as the client's topology says
     * now (refreshed as the class comment says); a slot that moved since answers MOVED, which the
     * caller sees as {@link UnavailableException} until the next refresh.
     */
    private static io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands<String, String> primaryOf(
            StatefulRedisClusterConnection<String, String> cluster, String key) {
        int slot = io.lettuce.core.cluster.SlotHash.getSlot(key);
        io.lettuce.core.cluster.models.partitions.RedisClusterNode primary =
                cluster.getPartitions().getMasterBySlot(slot);
        if (primary == null) {
            throw new UnavailableException("redis: no primary serves hash slot " + slot + " (of " + key + ") now");
        }
        return cluster.getConnection(primary.getNodeId()).async();
    }

    /** {@code uri} with the client's connect timeout and connection name. */
    private static RedisURI uri(RedisURI uri, ClientOptions options) {
        uri.setTimeout(options.connectTimeout());
        uri.setClientName(connectionName(options.clientName()));
        return uri;
    }

    private static List<RedisURI> clusterNodes(RedisSettings settings, ClientOptions options) {
        return settings.clusterNodes().stream().map(u -> uri(u, options)).toList();
    }

    /** What every connection does: reconnect by itself, wait for it, bound connects and commands. */
    private static io.lettuce.core.ClientOptions clientOptions(RedisSettings settings, ClientOptions options) {
        return io.lettuce.core.ClientOptions.builder()
                .autoReconnect(true)
                // While the connection is down, a command waits (up to the request timeout) for
                // the reconnect: a Redis restart is a pause, not a failure. A command that timed
                // out is never sent later (Lettuce skips completed commands). A command in flight
                // when the connection broke is sent again after the reconnect: every script is
                // idempotent for its owner and token, except that a repeated release finds
                // nothing to release.
                .disconnectedBehavior(io.lettuce.core.ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(options.connectTimeout())
                        .keepAlive(true)
                        .build())
                .timeoutOptions(TimeoutOptions.enabled(options.requestTimeout()))
                .sslOptions(sslOptions(settings.tls()))
                .build();
    }

    /** A refused connection, or a topology without a primary: what a failover under way looks like. */
    private static boolean failoverUnderWay(Throwable e) {
        return anyCause(
                e,
                t -> t instanceof java.net.ConnectException
                        || String.valueOf(t.getMessage()).contains(NO_PRIMARY));
    }

    /** A connection that closed before its handshake had an outcome (see the class comment). */
    private static boolean handshakeCutShort(Throwable e) {
        return anyCause(
                e,
                t -> (t instanceof io.lettuce.core.RedisConnectionException
                                && HANDSHAKE_CUT_SHORT.equals(t.getMessage()))
                        || (t instanceof IllegalStateException && HANDSHAKE_HANDLER_GONE.equals(t.getMessage())));
    }

    /** Whether {@code e} or any of its causes is {@code what}. */
    private static boolean anyCause(Throwable e, java.util.function.Predicate<Throwable> what) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (what.test(t)) {
                return true;
            }
        }
        return false;
    }

    private static UnavailableException unavailable(RedisSettings settings, RuntimeException e) {
        if (e instanceof UnavailableException u) {
            return u;
        }
        return new UnavailableException(
                io.holdfast.internal.Causes.withCause(
                        "redis: cannot connect to " + settings.display() + ": " + e.getMessage(), e.getCause()),
                e);
    }

    /** The TLS files of a rediss:// URI (checked to exist when it was parsed); none: the JVM's defaults. */
    private static io.lettuce.core.SslOptions sslOptions(RedisSettings.Tls tls) {
        io.lettuce.core.SslOptions.Builder b =
                io.lettuce.core.SslOptions.builder().jdkSslProvider();
        if (tls.ca() != null) {
            b.trustManager(new java.io.File(tls.ca()));
        }
        if (tls.cert() != null) {
            b.keyManager(new java.io.File(tls.cert()), new java.io.File(tls.key()), null);
        }
        return b.build();
    }

    /** Redis allows no spaces or control characters in connection names. */
    private static String connectionName(String name) {
        StringBuilder b = new StringBuilder(Math.min(name.length(), 128));
        for (int i = 0; i < name.length() && b.length() < 128; i++) {
            char c = name.charAt(i);
            b.append(c > ' ' && c < 127 ? c : '_');
        }
        return b.toString();
    }

    /**
     * Subscribes the pub/sub connection to one more channel, or pattern; Lettuce subscribes again
     * to all of them after a reconnect.
     */
    RedisFuture<Void> subscribe(String channelOrPattern, boolean pattern) {
        RedisPubSubAsyncCommands<String, String> async = subscription.async();
        return pattern ? async.psubscribe(channelOrPattern) : async.subscribe(channelOrPattern);
    }

    /** Undoes a {@link #subscribe}, without waiting for Redis's answer. */
    void unsubscribe(String channelOrPattern, boolean pattern) {
        RedisPubSubAsyncCommands<String, String> async = subscription.async();
        if (pattern) {
            async.punsubscribe(channelOrPattern);
        } else {
            async.unsubscribe(channelOrPattern);
        }
    }

    /** Whether the command connection is open (it may be reconnecting). */
    boolean isOpen() {
        return commands.isOpen();
    }

    /** Drops both connections at once, without a word to Redis (a crash, for tests). */
    void abandon() {
        if (subscription != null) {
            subscription.closeAsync();
        }
        if (commands != null) {
            commands.closeAsync();
        }
    }

    /** Closes both connections (unless already abandoned) and gives back the event loops. */
    void close(boolean abandoned) {
        try {
            if (!abandoned && subscription != null) {
                subscription.close();
            }
            if (!abandoned && commands != null) {
                commands.close();
            }
            client.shutdown(0, 2, TimeUnit.SECONDS);
        } catch (RuntimeException e) {
            log.warn("redis: closing the connection to Redis failed", e);
        } finally {
            SharedResources.release();
        }
    }
}
