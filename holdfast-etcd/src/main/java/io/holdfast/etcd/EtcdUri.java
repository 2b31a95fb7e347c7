package io.holdfast.etcd;

import io.holdfast.InvalidArgumentException;
import io.holdfast.internal.Redaction;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A parsed {@code etcd://host:port[,host:port...][?option=value&...]} URI, or {@code etcds://...}
 * for TLS.
 *
 * @param endpoints {@code http://host:port} (with TLS {@code https://host:port}) for each member,
 *     in the order given
 * @param namespace the key prefix under which every lock lives (option {@code namespace}, default
 *     {@value #DEFAULT_NAMESPACE})
 * @param user the etcd user for authentication, or {@code null} (option {@code user})
 * @param password the user's password, or {@code null} (option {@code password})
 * @param tls whether the members are reached over TLS ({@code etcds://})
 * @param ca with TLS, the PEM file of the CA that signed the members' certificates (option {@code
 *     ca}), or {@code null} for the JVM's trusted CAs
 * @param cert with TLS, this client's certificate (PEM, option {@code cert}), or {@code null}
 * @param key with TLS, the private key of {@code cert} (PEM, PKCS#8, option {@code key})
 */
record EtcdUri(
        List<String> endpoints,
        String namespace,
        String user,
        String password,
        boolean tls,
        String ca,
        String cert,
        String key) {
    static final String SCHEME = "etcd://";
    static final String TLS_SCHEME = "etcds://";
    static final String DEFAULT_NAMESPACE = "holdfast/locks/";
    static final int DEFAULT_PORT = 2379;

    EtcdUri {
        endpoints = List.copyOf(endpoints);
    }

    static boolean accepts(String uri) {
        if (uri == null) {
            return false;
        }
        String lower = uri.toLowerCase(Locale.ROOT);
        return lower.startsWith(SCHEME) || lower.startsWith(TLS_SCHEME);
    }

    /**
     * Parses the URI.
     *
     * @throws InvalidArgumentException naming what is wrong
     */
    static EtcdUri parse(String uri) {
        if (uri == null) {
            throw new InvalidArgumentException("the etcd URI must not be null");
        }
        String lower = uri.toLowerCase(Locale.ROOT);
        boolean tls = lower.startsWith(TLS_SCHEME);
        if (!tls && !lower.startsWith(SCHEME)) {
            throw new InvalidArgumentException("an etcd URI starts with etcd:// or etcds://, not " + redacted(uri));
        }
        String rest = uri.substring(tls ? TLS_SCHEME.length() : SCHEME.length());
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        if (rest.isEmpty()) {
            throw new InvalidArgumentException(
                    "the etcd URI names no host: " + redacted(uri) + " (etcd://host:port[,host:port...])");
        }
        if (rest.contains("/") || rest.contains("@")) {
            throw new InvalidArgumentException("the etcd URI has a path or user info, which it cannot use: "
                    + redacted(uri) + " (etcd://host:port[,host:port...]?user=U&password=P&namespace=N)");
        }
        List<String> endpoints = new ArrayList<>();
        for (String member : rest.split(",", -1)) {
            endpoints.add((tls ? "https://" : "http://") + endpoint(member, uri));
        }
        Map<String, String> options = options(query, uri);
        String namespace = options.getOrDefault("namespace", DEFAULT_NAMESPACE);
        if (namespace.isEmpty()) {
            throw new InvalidArgumentException("namespace must not be empty in " + redacted(uri));
        }
        for (int i = 0; i < namespace.length(); i++) {
            if (Character.isISOControl(namespace.charAt(i))) {
                throw new InvalidArgumentException("namespace must not contain control characters in " + redacted(uri));
            }
        }
        String user = options.get("user");
        String password = options.get("password");
        if ((user == null) != (password == null)) {
            throw new InvalidArgumentException("user and password go together in " + redacted(uri));
        }
        String ca = options.get("ca");
        String cert = options.get("cert");
        String key = options.get("key");
        if (!tls && (ca != null || cert != null || key != null)) {
            throw new InvalidArgumentException(
                    "ca, cert and key are TLS options: write etcds://... to use them in " + redacted(uri));
        }
        if ((cert == null) != (key == null)) {
            throw new InvalidArgumentException("cert and key go together in " + redacted(uri));
        }
        return new EtcdUri(endpoints, namespace, user, password, tls, ca, cert, key);
    }

    private static String endpoint(String member, String uri) {
        String host;
        int port = DEFAULT_PORT;
        if (member.startsWith("[")) {
            int close = member.indexOf(']');
            if (close < 0) {
                throw new InvalidArgumentException("unclosed [ in the etcd URI " + redacted(uri));
            }
            host = member.substring(0, close + 1);
            String tail = member.substring(close + 1);
            if (!tail.isEmpty()) {
                if (!tail.startsWith(":")) {
                    throw new InvalidArgumentException("expected :port after " + host + " in " + redacted(uri));
                }
                port = port(tail.substring(1), uri);
            }
        } else {
            int colon = member.lastIndexOf(':');
            host = colon < 0 ? member : member.substring(0, colon);
            if (colon >= 0) {
                port = port(member.substring(colon + 1), uri);
            }
        }
        if (host.isEmpty()) {
            throw new InvalidArgumentException("an empty host in the etcd URI " + redacted(uri));
        }
        if (!host.startsWith("[") && !host.matches("[A-Za-z0-9.\\-_]+")) {
            throw new InvalidArgumentException("'" + host + "' is not a host name in the etcd URI " + redacted(uri));
        }
        return host + ":" + port;
    }

    private static int port(String text, String uri) {
        try {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException(
                    "'" + text + "' is not a port (1-65535) in the etcd URI " + redacted(uri));
        }
    }

    private static Map<String, String> options(String query, String uri) {
        Map<String, String> options = new LinkedHashMap<>();
        if (query.isEmpty()) {
            return options;
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new InvalidArgumentException("'" + pair + "' is not option=value in " + redacted(uri));
            }
            String key = pair.substring(0, eq);
            String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (!List.of("namespace", "user", "password", "ca", "cert", "key").contains(key)) {
                throw new InvalidArgumentException("unknown option '" + key
                        + "' in the etcd URI (known: namespace, user, password, ca, cert, key): " + redacted(uri));
            }
            if (options.put(key, value) != null) {
                throw new InvalidArgumentException("option '" + key + "' given twice in " + redacted(uri));
            }
        }
        return options;
    }

    /** The URI with any password replaced, for messages. */
    static String redacted(String uri) {
        return Redaction.uri(uri);
    }
}
