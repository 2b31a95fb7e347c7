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
 * @param redisUri what Lettuce connects to
 * @param prefix the prefix of every key and channel the provider uses
 * @param display the URI without credentials, for messages
 * @param replicas how many replicas must have a grant, a renewal or a register write before it is
 *     acknowledged (Redis {@code WAIT}); 0: the primary alone
 */
record RedisSettings(RedisURI redisUri, String prefix, String display, Tls tls, int replicas) {
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
    private static final String SENTINEL = "redis-sentinel://";
    private static final int MAX_SENTINELS = 16;
    private static final int MAX_PREFIX = 256;

    /** Whether the URI is one of this provider's (by scheme only; no I/O, no validation). */
    static boolean accepts(String uri) {
        if (uri == null) {
            return false;
        }
        String lower = uri.strip().toLowerCase(Locale.ROOT);
        return lower.startsWith("redis://") || lower.startsWith("rediss://") || lower.startsWith(SENTINEL);
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
            throw invalid(text, "it must start with redis://, rediss:// or redis-sentinel://");
        }
        if (text.strip().toLowerCase(Locale.ROOT).startsWith(SENTINEL)) {
            return parseSentinel(text);
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
        return new RedisSettings(builder.build(), prefix, display, files, replicas(text, options, 0));
    }

    /**
     * {@code redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/database]?master=NAME}:
     * parsed by hand, since a list of hosts is no URI authority {@link URI} can read.
     */
    private static RedisSettings parseSentinel(String text) {
        String rest = text.strip().substring(SENTINEL.length());
        int end = rest.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int at = rest.indexOf(c);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        String authority = rest.substring(0, end);
        String tail = rest.substring(end);
        if (tail.contains("#")) {
            throw invalid(text, "a fragment (#...) means nothing here; name the master with ?master=NAME");
        }
        int at = authority.lastIndexOf('@');
        String userInfo = at < 0 ? null : authority.substring(0, at);
        String hosts = authority.substring(at + 1);
        if (hosts.isEmpty()) {
            throw invalid(text, "it names no Sentinel host");
        }
        int question = tail.indexOf('?');
        String path = question < 0 ? tail : tail.substring(0, question);
        Map<String, String> options =
                options(text, question < 0 ? null : tail.substring(question + 1), SENTINEL_OPTIONS);
        String master = options.get("master");
        if (master == null || master.isBlank()) {
            throw invalid(text, "it names no master: add ?master=NAME, the name the Sentinels monitor");
        }
        String sentinelPassword = options.get("sentinelPassword");
        String[] list = hosts.split(",", -1);
        if (list.length > MAX_SENTINELS) {
            throw invalid(text, "more than " + MAX_SENTINELS + " Sentinels");
        }
        RedisURI.Builder builder = null;
        StringBuilder shown = new StringBuilder(SENTINEL);
        for (String entry : list) {
            if (entry.isBlank()) {
                throw invalid(text, "'' is not a Sentinel host[:port]");
            }
            URI one;
            try {
                one = new URI("redis://" + entry);
            } catch (URISyntaxException e) {
                throw invalid(text, "Sentinel '" + entry + "': " + e.getMessage());
            }
            String host = bare(one.getHost());
            if (host == null
                    || host.isEmpty()
                    || one.getRawUserInfo() != null
                    || !one.getRawPath().isEmpty()) {
                throw invalid(text, "'" + entry + "' is not a Sentinel host[:port]");
            }
            int port = one.getPort() == -1 ? DEFAULT_SENTINEL_PORT : one.getPort();
            if (port < 1 || port > 65535) {
                throw invalid(text, "port " + port + " is not between 1 and 65535");
            }
            if (builder == null) {
                builder = sentinelPassword == null
                        ? RedisURI.Builder.sentinel(host, port, master)
                        : RedisURI.Builder.sentinel(host, port, master, sentinelPassword);
            } else if (sentinelPassword == null) {
                builder.withSentinel(host, port);
            } else {
                builder.withSentinel(host, port, sentinelPassword);
            }
            shown.append(shown.length() == SENTINEL.length() ? "" : ",")
                    .append(host.contains(":") ? "[" + host + "]" : host)
                    .append(':')
                    .append(port);
        }
        int database = database(text, path);
        builder.withDatabase(database);
        credentials(builder, userInfo);
        shown.append('/').append(database).append("?master=").append(master);
        return new RedisSettings(
                builder.build(), prefix(text, options), shown.toString(), Tls.NONE, replicas(text, options, 1));
    }

    /** A host as Lettuce takes it: an IPv6 literal without the brackets a URI puts around it. */
    private static String bare(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
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

    private static Map<String, String> options(String text, String query, Set<String> known) {
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

    private static InvalidArgumentException invalid(String text, String why) {
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
