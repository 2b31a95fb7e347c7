package io.holdfast.redis;

import io.holdfast.InvalidArgumentException;
import io.holdfast.internal.Redaction;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A parsed {@code redis://}, {@code rediss://} or {@code redis-sentinel://} URI: where Redis is (as
 * Lettuce's {@link RedisURI}) and the provider's own options. Everything wrong with it is reported as {@link
 * InvalidArgumentException} naming the part, before any connection is tried.
 *
 * <p>Form: {@code redis[s]://[[user]:password@]host[:port][/database][?option=value&...]}; options:
 * {@code prefix} (key prefix, default {@value #DEFAULT_PREFIX}) and, for {@code rediss}, {@code
 * verifyPeer} ({@code full}, {@code ca} or {@code none}; default {@code full}), {@code ca} (the PEM
 * file of the CA that signed the server's certificate; default the JVM's trusted CAs), {@code cert}
 * and {@code key} (this client's certificate and PKCS#8 key, for a Redis with {@code
 * tls-auth-clients yes}); {@code replicas} (how many replicas must have a grant, a renewal or a
 * register write before it is acknowledged: 0 to {@value #MAX_REPLICAS}; default 0, and 1 through
 * Sentinels).
 *
 * <p>Sentinel form: {@code
 * redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/database]?master=NAME[&...]}: the
 * hosts are Sentinels (default port {@value #DEFAULT_SENTINEL_PORT}), {@code master} the name they
 * monitor (required), the credentials those of the Redis servers; {@code sentinelPassword} is the
 * Sentinels' own, if they ask for one. No TLS: Sentinel over TLS is refused as not supported.
 *
 * <p>Cluster form: {@code redis-cluster://[[user]:password@]host[:port][,host[:port]...][?option=value&...]}:
 * the hosts are some nodes of a Redis Cluster (default port {@value #DEFAULT_PORT}), from which the
 * client learns the rest; options {@code prefix} (without <code>{</code> or <code>}</code>: the
 * provider puts each name's keys in one hash slot with a hash tag of its own) and {@code replicas}
 * (default 0: the slot's primary alone). No database (a cluster has only database 0) and no TLS.
 *
 * @param redisUri what Lettuce connects to
 * @param prefix the prefix of every key and channel the provider uses
 * @param display the URI without credentials, for messages
 * @param replicas how many replicas must have a grant, a renewal or a register write before it is
 *     acknowledged (Redis {@code WAIT}); 0: the primary alone
 * @param clusterNodes for {@code redis-cluster://}, the nodes to learn the cluster's topology from
 *     ({@code redisUri} is the first of them); empty otherwise
 */
record RedisSettings(
        RedisURI redisUri, String prefix, String display, Tls tls, int replicas, List<RedisURI> clusterNodes) {
    /** The TLS files of a {@code rediss://} URI; each may be null. */
    record Tls(String ca, String cert, String key) {
        static final Tls NONE = new Tls(null, null, null);
    }

    static final String DEFAULT_PREFIX = "holdfast:";
    static final int DEFAULT_PORT = 6379;
    static final int DEFAULT_SENTINEL_PORT = 26379;
    private static final Set<String> OPTIONS = Set.of("prefix", "verifyPeer", "ca", "cert", "key", "replicas");
    private static final Set<String> SENTINEL_OPTIONS = Set.of("prefix", "master", "sentinelPassword", "replicas");
    static final int MAX_REPLICAS = 16;
    private static final Set<String> CLUSTER_OPTIONS = Set.of("prefix", "replicas");
    static final String SENTINEL = "redis-sentinel://";
    private static final String CLUSTER = "redis-cluster://";
    private static final int MAX_SENTINELS = 16;
    private static final int MAX_CLUSTER_NODES = 64;
    private static final int MAX_PREFIX = 256;

    /** Whether the URI is one of this provider's (by scheme only; no I/O, no validation). */
    static boolean accepts(String uri) {
        if (uri == null) {
            return false;
        }
        String lower = uri.strip().toLowerCase(Locale.ROOT);
        return lower.startsWith("redis://")
                || lower.startsWith("rediss://")
                || lower.startsWith(SENTINEL)
                || lower.startsWith(CLUSTER);
    }

    /** Whether Redis is a Redis Cluster: each name's keys in the hash slot of its own hash tag. */
    boolean cluster() {
        return !clusterNodes.isEmpty();
    }

    /** Whether Redis is found through Sentinels (its primary can change under the client). */
    boolean sentinel() {
        return redisUri.getSentinelMasterId() != null;
    }

    static RedisSettings parse(String text) {
        try {
            return parseChecked(text);
        } catch (InvalidArgumentException e) {
            throw e;
        } catch (IllegalArgumentException e) { // bad %-escapes, values Lettuce refuses
            throw invalid(text, e.getMessage());
        }
    }

    private static RedisSettings parseChecked(String text) {
        if (!accepts(text)) {
            throw invalid(text, "it must start with redis://, rediss://, redis-sentinel:// or redis-cluster://");
        }
        if (text.strip().toLowerCase(Locale.ROOT).startsWith(SENTINEL)) {
            return parseSentinel(text);
        }
        if (text.strip().toLowerCase(Locale.ROOT).startsWith(CLUSTER)) {
            return parseCluster(text);
        }
        String rest = text.strip().substring(text.strip().indexOf("://") + 3);
        if (rest.isEmpty() || "/?#".indexOf(rest.charAt(0)) >= 0) {
            throw invalid(text, "it names no host");
        }
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw invalid(text, e.getMessage());
        }
        boolean tls = uri.getScheme().equalsIgnoreCase("rediss");
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw invalid(text, "it names no host (or the host is not a valid host name)");
        }
        int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
        if (port < 1 || port > 65535) {
            throw invalid(text, "port " + port + " is not between 1 and 65535");
        }
        if (uri.getRawFragment() != null) {
            throw invalid(text, "a fragment (#...) means nothing here");
        }
        int database = database(text, uri.getPath());
        Map<String, String> options = options(text, uri.getRawQuery(), OPTIONS);
        String prefix = prefix(text, options);

        RedisURI.Builder builder = RedisURI.builder()
                .withHost(host)
                .withPort(port)
                .withDatabase(database)
                .withSsl(tls);
        Tls files = Tls.NONE;
        if (tls) {
            builder.withVerifyPeer(verifyMode(text, options.getOrDefault("verifyPeer", "full")));
            files = new Tls(options.get("ca"), options.get("cert"), options.get("key"));
            if ((files.cert() == null) != (files.key() == null)) {
                throw invalid(text, "cert and key go together");
            }
            for (String file : java.util.Arrays.asList(files.ca(), files.cert(), files.key())) {
                if (file != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(file))) {
                    throw invalid(text, "the TLS file " + file + " does not exist or cannot be read");
                }
            }
        } else {
            for (String option : List.of("verifyPeer", "ca", "cert", "key")) {
                if (options.containsKey(option)) {
                    throw invalid(text, option + " applies to rediss:// (TLS) only");
                }
            }
        }
        credentials(builder, uri.getRawUserInfo());
        String display = uri.getScheme().toLowerCase(Locale.ROOT) + "://"
                + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + database;
        return new RedisSettings(builder.build(), prefix, display, files, replicas(text, options, 0), List.of());
    }

    /** {@code redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/database]?master=NAME}. */
    private static RedisSettings parseSentinel(String text) {
        RedisHostList list =
                RedisHostList.parse(text, SENTINEL, "Sentinel", DEFAULT_SENTINEL_PORT, SENTINEL_OPTIONS, MAX_SENTINELS);
        Map<String, String> options = list.options();
        String master = options.get("master");
        if (master == null || master.isBlank()) {
            throw invalid(text, "it names no master: add ?master=NAME, the name the Sentinels monitor");
        }
        String sentinelPassword = options.get("sentinelPassword");
        RedisURI.Builder builder = null;
        for (int i = 0; i < list.hosts().size(); i++) {
            String host = list.hosts().get(i);
            int port = list.ports().get(i);
            if (builder == null) {
                builder = sentinelPassword == null
                        ? RedisURI.Builder.sentinel(host, port, master)
                        : RedisURI.Builder.sentinel(host, port, master, sentinelPassword);
            } else if (sentinelPassword == null) {
                builder.withSentinel(host, port);
            } else {
                builder.withSentinel(host, port, sentinelPassword);
            }
        }
        int database = database(text, list.path());
        builder.withDatabase(database);
        credentials(builder, list.userInfo());
        String shown = SENTINEL + list.shown() + "/" + database + "?master=" + master;
        return new RedisSettings(
                builder.build(), prefix(text, options), shown, Tls.NONE, replicas(text, options, 1), List.of());
    }

    /** {@code redis-cluster://[[user]:password@]host[:port][,host[:port]...][?option=value&...]}. */
    private static RedisSettings parseCluster(String text) {
        RedisHostList list =
                RedisHostList.parse(text, CLUSTER, "cluster node", DEFAULT_PORT, CLUSTER_OPTIONS, MAX_CLUSTER_NODES);
        if (!list.path().isEmpty() && !list.path().equals("/") && !list.path().equals("/0")) {
            throw invalid(text, "a Redis Cluster has only database 0, not " + list.path());
        }
        String prefix = prefix(text, list.options());
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw invalid(
                    text,
                    "a redis-cluster prefix must not contain '{' or '}': the provider gives each name's keys"
                            + " a hash tag of its own");
        }
        List<RedisURI> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < list.hosts().size(); i++) {
            RedisURI.Builder builder = RedisURI.builder()
                    .withHost(list.hosts().get(i))
                    .withPort(list.ports().get(i));
            credentials(builder, list.userInfo());
            nodes.add(builder.build());
        }
        return new RedisSettings(
                nodes.get(0),
                prefix,
                CLUSTER + list.shown(),
                Tls.NONE,
                replicas(text, list.options(), 0),
                List.copyOf(nodes));
    }

    private static void credentials(RedisURI.Builder builder, String userInfo) {
        if (userInfo == null) {
            return;
        }
        int colon = userInfo.indexOf(':');
        String password = decode(colon < 0 ? userInfo : userInfo.substring(colon + 1));
        String user = colon < 0 ? "" : decode(userInfo.substring(0, colon));
        if (user.isEmpty()) {
            builder.withPassword(password.toCharArray());
        } else {
            builder.withAuthentication(user, password.toCharArray());
        }
    }

    private static int replicas(String text, Map<String, String> options, int byDefault) {
        String value = options.get("replicas");
        if (value == null) {
            return byDefault;
        }
        if (!value.matches("[0-9]{1,2}") || Integer.parseInt(value) > MAX_REPLICAS) {
            throw invalid(text, "replicas must be a number from 0 to " + MAX_REPLICAS + ", not '" + value + "'");
        }
        return Integer.parseInt(value);
    }

    private static String prefix(String text, Map<String, String> options) {
        String prefix = options.getOrDefault("prefix", DEFAULT_PREFIX);
        if (prefix.isEmpty() || prefix.length() > MAX_PREFIX) {
            throw invalid(text, "prefix must be 1 to " + MAX_PREFIX + " characters");
        }
        return prefix;
    }

    private static int database(String text, String path) {
        if (path == null || path.isEmpty() || path.equals("/")) {
            return 0;
        }
        String digits = path.substring(1);
        if (!digits.matches("[0-9]{1,5}")) {
            throw invalid(text, "the path must be a database number such as /0, not " + path);
        }
        return Integer.parseInt(digits);
    }

    static Map<String, String> options(String text, String query, Set<String> known) {
        Map<String, String> options = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return options;
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw invalid(text, "option '" + pair + "' is not name=value");
            }
            String key = decode(pair.substring(0, eq));
            if (!known.contains(key)) {
                throw invalid(
                        text,
                        "unknown option '" + key + "' (known: " + String.join(", ", new java.util.TreeSet<>(known))
                                + ")");
            }
            if (options.put(key, decode(pair.substring(eq + 1))) != null) {
                throw invalid(text, "option '" + key + "' is given twice");
            }
        }
        return options;
    }

    private static SslVerifyMode verifyMode(String text, String value) {
        switch (value.toLowerCase(Locale.ROOT)) {
            case "full":
            case "true":
                return SslVerifyMode.FULL;
            case "ca":
                return SslVerifyMode.CA;
            case "none":
            case "false":
                return SslVerifyMode.NONE;
            default:
                throw invalid(text, "verifyPeer must be full, ca or none, not '" + value + "'");
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    static InvalidArgumentException invalid(String text, String why) {
        return new InvalidArgumentException("malformed redis URI '" + redact(text) + "': " + why);
    }

    /** The URI with any password replaced, so messages never show it. */
    static String redact(String text) {
        if (text == null) {
            return "null";
        }
        return Redaction.uri(text);
    }
}
