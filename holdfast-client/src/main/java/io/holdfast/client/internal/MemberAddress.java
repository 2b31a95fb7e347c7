package io.holdfast.client.internal;

import io.holdfast.InvalidArgumentException;

/**
 * The client address of one server: {@code host:port}, where host is a name, an IPv4 address, or
 * an IPv6 address in brackets ({@code [::1]:4653}).
 */
public record MemberAddress(String host, int port) {
    /** The default client port of the Holdfast server. */
    public static final int DEFAULT_PORT = 4653;

    public MemberAddress {
        if (host == null || host.isEmpty()) {
            throw new InvalidArgumentException("a member address needs a host");
        }
        if (port < 1 || port > 65_535) {
            throw new InvalidArgumentException("port must be between 1 and 65535, not " + port);
        }
    }

    /**
     * Reads {@code host:port}, or {@code host} alone for the default port when {@code
     * defaultPort} is true.
     *
     * @throws InvalidArgumentException naming the text if it is not an address
     */
    public static MemberAddress parse(String text, boolean defaultPort) {
        if (text == null || text.isBlank()) {
            throw new InvalidArgumentException("a member address must not be empty");
        }
        String s = text.strip();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 2) {
                throw new InvalidArgumentException("bad IPv6 address in '" + text + "'");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw new InvalidArgumentException("expected ':port' after the IPv6 address in '" + text + "'");
            }
            port = rest.isEmpty() ? null : rest.substring(1);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon != s.indexOf(':')) {
                throw new InvalidArgumentException(
                        "put an IPv6 address in brackets, as [::1]:4653, not '" + text + "'");
            }
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
        }
        if (host.isEmpty() || !host.chars().allMatch(c -> c > ' ' && c < 127 && c != '/' && c != '@' && c != '?')) {
            throw new InvalidArgumentException("bad host in member address '" + text + "'");
        }
        if (port == null) {
            if (!defaultPort) {
                throw new InvalidArgumentException("member address '" + text + "' has no port");
            }
            return new MemberAddress(host, DEFAULT_PORT);
        }
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)) {
            throw new InvalidArgumentException("port must be a number from 1 to 65535 in '" + text + "'");
        }
        int p = Integer.parseInt(port);
        if (p < 1 || p > 65_535) {
            throw new InvalidArgumentException("port must be between 1 and 65535, not " + p + " in '" + text + "'");
        }
        return new MemberAddress(host, p);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
