package io.holdfast.redis;

import io.holdfast.InvalidArgumentException;
import io.holdfast.spi.Redaction;
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
 * A parsed {@code redis://} or {@code rediss://} URI: where Redis is (as Lettuce's {@link RedisURI})
 * and the provider's own options. Everything wrong with it is reported as {@link
 * InvalidArgumentException} naming the part, before any connection is tried.
 *
 * <p>Form: {@code redis[s]://[[user]:password@]host[:port][/database][?option=value&...]}; options:
 * {@code prefix} (key prefix, default {@value #DEFAULT_PREFIX}) and, for {@code rediss}, {@code
 * verifyPeer} ({@code full}, {@code ca} or {@code none}; default {@code full}), {@code ca} (the PEM
 * file of the CA that signed the server's certificate; default the JVM's trusted CAs), {@code cert}
 * and {@code key} (this client's certificate and PKCS#8 key, for a Redis with {@code
 * tls-auth-clients yes}).
 *
 * @param redisUri what Lettuce connects to
 * @param prefix the prefix of every key and channel the provider uses
 * @param display the URI without credentials, for messages
 */
record RedisSettings(RedisURI redisUri, String prefix, String display, Tls tls) {
    /** The TLS files of a {@code rediss://} URI; each may be null. */
    record Tls(String ca, String cert, String key) {
        static final Tls NONE = new Tls(null, null, null);
    }

    static final String DEFAULT_PREFIX = "holdfast:";
    static final int DEFAULT_PORT = 6379;
    private static final Set<String> OPTIONS = Set.of("prefix", "verifyPeer", "ca", "cert", "key");
    private static final int MAX_PREFIX = 256;

    /** Whether the URI is one of this provider's (by scheme only; no I/O, no validation). */
    static boolean accepts(String uri) {
        if (uri == null) {
            return false;
        }
        String lower = uri.strip().toLowerCase(Locale.ROOT);
        return lower.startsWith("redis://") || lower.startsWith("rediss://");
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
            throw invalid(text, "it must start with redis:// or rediss://");
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
        Map<String, String> options = options(text, uri.getRawQuery());
        String prefix = options.getOrDefault("prefix", DEFAULT_PREFIX);
        if (prefix.isEmpty() || prefix.length() > MAX_PREFIX) {
            throw invalid(text, "prefix must be 1 to " + MAX_PREFIX + " characters");
        }

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
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            String password = decode(colon < 0 ? userInfo : userInfo.substring(colon + 1));
            String user = colon < 0 ? "" : decode(userInfo.substring(0, colon));
            if (user.isEmpty()) {
                builder.withPassword(password.toCharArray());
            } else {
                builder.withAuthentication(user, password.toCharArray());
            }
        }
        String display = uri.getScheme().toLowerCase(Locale.ROOT) + "://"
                + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + database;
        return new RedisSettings(builder.build(), prefix, display, files);
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

    private static Map<String, String> options(String text, String query) {
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
            if (!OPTIONS.contains(key)) {
                throw invalid(text, "unknown option '" + key + "' (known: prefix, verifyPeer, ca, cert, key)");
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
