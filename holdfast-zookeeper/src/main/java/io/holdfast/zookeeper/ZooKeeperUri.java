package io.holdfast.zookeeper;

import io.holdfast.InvalidArgumentException;
import io.holdfast.spi.Redaction;
import io.holdfast.spi.UriDurations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed {@code zookeeper://host:port[,host:port...][/chroot][?connectTimeout=10s]} URI.
 *
 * @param connectString ZooKeeper's connect string, {@code host:port,host:port}
 * @param chroot the path under which Holdfast keeps its nodes, {@code /holdfast} by default
 * @param connectTimeout how long opening a client waits for its first connection, or null for the
 *     client's request timeout
 */
record ZooKeeperUri(String connectString, String chroot, Duration connectTimeout) {
    static final String SCHEME = "zookeeper://";
    static final String DEFAULT_CHROOT = "/holdfast";
    private static final Pattern HOST_PORT = Pattern.compile("([A-Za-z0-9.\\-]+|\\[[0-9A-Fa-f:.]+\\])(?::(\\d{1,5}))?");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_\\-.]+");

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
        return new ZooKeeperUri(hosts(uri, rest), chroot(uri, path), options(uri, query));
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
        return SCHEME + connectString + chroot;
    }
}
