package io.holdfast.redis;

/**
 * Where the provider keeps its state in Redis: the keys of a lock (holders, queue, waiters, token
 * counter, arrival counter) and of a register, all under the URI's prefix.
 *
 * <p>On one Redis: {@code <prefix>lock:<name>}, {@code <prefix>queue:<name>}, {@code
 * <prefix>wait:<name>}, {@code <prefix>reg:<key>}, and one token counter {@code <prefix>token} and
 * one arrival counter {@code <prefix>seq} for every name.
 *
 * <p>On a Redis Cluster ({@linkplain #slotted slotted}): the name is the hash tag of every key of
 * its own, counters included: {@code <prefix>lock:{<name>}}, {@code <prefix>queue:{<name>}}, {@code
 * <prefix>wait:{<name>}}, {@code <prefix>token:{<name>}}, {@code <prefix>seq:{<name>}}, {@code
 * <prefix>reg:{<key>}}. So every key one script touches is in one hash slot, the slot of the name.
 * A {@code %} or <code>}</code> in a name is written {@code %25} or {@code %7D} inside the braces, so
 * the tag is always the whole name and never empty (a prefix has no braces: the URI refuses them).
 */
final class RedisKeyLayout {
    static final String HOLDERS = "lock:";
    static final String QUEUE = "queue:";

    private final String prefix;
    private final boolean slotted;

    /** @param slotted whether each name's keys carry its hash tag (a Redis Cluster) */
    RedisKeyLayout(String prefix, boolean slotted) {
        this.prefix = prefix;
        this.slotted = slotted;
    }

    String prefix() {
        return prefix;
    }

    boolean slotted() {
        return slotted;
    }

    String holders(String name) {
        return key(HOLDERS, name);
    }

    String queue(String name) {
        return key(QUEUE, name);
    }

    String waiters(String name) {
        return key("wait:", name);
    }

    /** The counter the tokens of {@code name} come from: the name's own in a cluster, else one for all. */
    String counter(String name) {
        return slotted ? key("token:", name) : prefix + "token";
    }

    /** The counter that orders the arrivals in {@code name}'s queue. */
    String arrivals(String name) {
        return slotted ? key("seq:", name) : prefix + "seq";
    }

    String register(String key) {
        return key("reg:", key);
    }

    /** A SCAN pattern for the keys of {@code kind} ({@link #HOLDERS}, {@link #QUEUE}) of the names that begin with {@code start}. */
    String pattern(String kind, String start) {
        return RedisAdmin.glob(prefix + kind + (slotted ? "{" + escape(start) : start)) + "*";
    }

    /** The name whose key of {@code kind} {@code key} is (one a {@link #pattern} found), or null if none is. */
    String name(String kind, String key) {
        String rest = key.substring((prefix + kind).length());
        if (!slotted) {
            return rest;
        }
        if (rest.length() < 2 || rest.charAt(0) != '{' || rest.charAt(rest.length() - 1) != '}') {
            return null;
        }
        return unescape(rest.substring(1, rest.length() - 1));
    }

    private String key(String kind, String name) {
        return prefix + kind + (slotted ? "{" + escape(name) + "}" : name);
    }

    private static String escape(String name) {
        return name.replace("%", "%25").replace("}", "%7D");
    }

    private static String unescape(String tag) {
        StringBuilder b = new StringBuilder(tag.length());
        for (int i = 0; i < tag.length(); i++) {
            if (tag.startsWith("%25", i)) {
                b.append('%');
                i += 2;
            } else if (tag.startsWith("%7D", i)) {
                b.append('}');
                i += 2;
            } else {
                b.append(tag.charAt(i));
            }
        }
        return b.toString();
    }
}
