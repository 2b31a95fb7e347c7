package io.holdfast.redis;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Redis URI with a list of hosts ({@code redis-sentinel://}, {@code redis-cluster://}), in parts:
 * credentials (or null), the hosts and their ports, the path and the options. Parsed by hand, since
 * a list of hosts is no URI authority {@link URI} can read; everything wrong is reported as {@link
 * io.holdfast.InvalidArgumentException} naming the part ({@link RedisSettings#invalid}).
 */
record RedisHostList(
        String userInfo, List<String> hosts, List<Integer> ports, String path, Map<String, String> options) {
    /**
     * Parses {@code scheme[[user]:password@]host[:port][,host[:port]...][/path][?options]}.
     *
     * @param role what a host is, for messages (Sentinel, cluster node)
     * @param known the options the scheme takes; any other is refused
     * @param max the most hosts
     */
    static RedisHostList parse(String text, String scheme, String role, int defaultPort, Set<String> known, int max) {
        String rest = text.strip().substring(scheme.length());
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
            throw RedisSettings.invalid(
                    text,
                    "a fragment (#...) means nothing here"
                            + (scheme.equals(RedisSettings.SENTINEL) ? "; name the master with ?master=NAME" : ""));
        }
        int at = authority.lastIndexOf('@');
        String userInfo = at < 0 ? null : authority.substring(0, at);
        String all = authority.substring(at + 1);
        if (all.isEmpty()) {
            throw RedisSettings.invalid(text, "it names no " + role + " host");
        }
        int question = tail.indexOf('?');
        Map<String, String> options =
                RedisSettings.options(text, question < 0 ? null : tail.substring(question + 1), known);
        String[] list = all.split(",", -1);
        if (list.length > max) {
            throw RedisSettings.invalid(text, "more than " + max + " " + role + "s");
        }
        List<String> hosts = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        for (String entry : list) {
            if (entry.isBlank()) {
                throw RedisSettings.invalid(text, "'' is not a " + role + " host[:port]");
            }
            URI one;
            try {
                one = new URI("redis://" + entry);
            } catch (URISyntaxException e) {
                throw RedisSettings.invalid(text, role + " '" + entry + "': " + e.getMessage());
            }
            String host = bare(one.getHost());
            if (host == null
                    || host.isEmpty()
                    || one.getRawUserInfo() != null
                    || !one.getRawPath().isEmpty()) {
                throw RedisSettings.invalid(text, "'" + entry + "' is not a " + role + " host[:port]");
            }
            int port = one.getPort() == -1 ? defaultPort : one.getPort();
            if (port < 1 || port > 65535) {
                throw RedisSettings.invalid(text, "port " + port + " is not between 1 and 65535");
            }
            hosts.add(host);
            ports.add(port);
        }
        return new RedisHostList(userInfo, hosts, ports, question < 0 ? tail : tail.substring(0, question), options);
    }

    /** {@code host:port,...}, as messages show the hosts. */
    String shown() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < hosts.size(); i++) {
            String host = hosts.get(i);
            b.append(i == 0 ? "" : ",")
                    .append(host.contains(":") ? "[" + host + "]" : host)
                    .append(':')
                    .append(ports.get(i));
        }
        return b.toString();
    }

    /** A host as Lettuce takes it: an IPv6 literal without the brackets a URI puts around it. */
    private static String bare(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
