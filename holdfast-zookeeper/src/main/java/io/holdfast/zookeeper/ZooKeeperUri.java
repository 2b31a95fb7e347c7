package io.holdfast.zookeeper;

import io.holdfast.InvalidArgumentException;
import io.holdfast.internal.Redaction;
import io.holdfast.internal.UriDurations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed {@code zookeeper://[user:password@]host:port[,host:port...][/chroot][?connectTimeout=10s]}
 * URI.
 *
 * @param user the digest user the client authenticates as, or null for none
 * @param password that user's password (null without a user); never shown in messages
 * @param connectString ZooKeeper's connect string, {@code host:port,host:port}
 * @param chroot the path under which Holdfast keeps its nodes, {@code /holdfast} by default
 * @param connectTimeout how long opening a client waits for its first connection, or null for the
 *     client's request timeout
 */
record ZooKeeperUri(String user, String password, String connectString, String chroot, Duration connectTimeout) {
    static final String SCHEME = "zookeeper://";
    static final String DEFAULT_CHROOT = "/holdfast";
    private static final Pattern HOST_PORT = Pattern.compile("([A-Za-z0-9.\\-]+|\\[[0-9A-Fa-f:.]+\\])(?::(\\d{1,5}))?");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_\\-.]+");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_\\-.]{1,64}");

    static ZooKeeperUri parse(String uri) {
        if (uri == null || !uri.startsWith(SCHEME)) {
            throw new InvalidArgumentException(
                    "a ZooKeeper URI starts with " + SCHEME + ", not '" + Redaction.uri(uri) + "'");
        }
        String rest = uri.substring(SCHEME.length());
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String path = "";
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            path = rest.substring(slash);
            rest = rest.substring(0, slash);
        }
        String user = null;
        String password = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            user = colon < 0 ? userInfo : userInfo.substring(0, colon);
            password = colon < 0 ? "" : userInfo.substring(colon + 1);
            if (!USER.matcher(user).matches() || password.isEmpty()) {
                throw new InvalidArgumentException("the ZooKeeper URI '" + Redaction.uri(uri)
                        + "' has a malformed user: write zookeeper://user:password@host:port/... (a user of 1 to 64"
                        + " letters, digits, '_', '-' or '.', and a password)");
            }
        }
        return new ZooKeeperUri(user, password, hosts(uri, rest), chroot(uri, path), options(uri, query));
    }

    /** Whether the client authenticates (ZooKeeper's digest scheme). */
    boolean authenticated() {
        return user != null;
    }

    /** Never the password: records print their components. */
    @Override
    public String toString() {
        return describe();
    }

    private static String hosts(String uri, String authority) {
        if (authority.isEmpty()) {
            throw new InvalidArgumentException(
                    "the ZooKeeper URI '" + Redaction.uri(uri) + "' names no host (zookeeper://host:port/...)");
        }
        List<String> hosts = new ArrayList<>();
        for (String hostPort : authority.split(",", -1)) {
            Matcher m = HOST_PORT.matcher(hostPort);
            if (!m.matches()) {
                throw new InvalidArgumentException(
                        "the ZooKeeper URI '" + Redaction.uri(uri) + "' has a malformed host:port '" + hostPort + "'");
            }
            int port = 2181;
            if (m.group(2) != null) {
                port = Integer.parseInt(m.group(2));
                if (port < 1 || port > 65535) {
                    throw new InvalidArgumentException("the ZooKeeper URI '" + Redaction.uri(uri) + "' has port " + port
                            + ", not within 1..65535");
                }
            }
            hosts.add(m.group(1) + ":" + port);
        }
        return String.join(",", hosts);
    }

    private static String chroot(String uri, String path) {
        if (path.isEmpty() || path.equals("/")) {
            return DEFAULT_CHROOT;
        }
        String trimmed = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        for (String segment : trimmed.substring(1).split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches() || segment.equals(".") || segment.equals("..")) {
                throw new InvalidArgumentException("the ZooKeeper URI '" + Redaction.uri(uri)
                        + "' has a bad chroot segment '" + segment + "' (letters, digits, '_', '-' and '.' only)");
            }
            if (segment.equals("zookeeper") && trimmed.indexOf('/', 1) < 0) {
                throw new InvalidArgumentException("the chroot /zookeeper is ZooKeeper's own");
            }
        }
        return trimmed;
    }

    private static Duration options(String uri, String query) {
        Duration connectTimeout = null;
        if (query == null || query.isEmpty()) {
            return null;
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            if (key.equals("connectTimeout")) {
                connectTimeout = UriDurations.parse(uri, key, value, Duration.ofMillis(100), Duration.ofMinutes(10));
            } else {
                throw new InvalidArgumentException("the ZooKeeper URI '" + Redaction.uri(uri)
                        + "' has an unknown option '" + key + "' (known: connectTimeout)");
            }
        }
        return connectTimeout;
    }

    /** The URI again, for messages. */
    String describe() {
        return SCHEME + (user == null ? "" : user + ":***@") + connectString + chroot;
    }
}
