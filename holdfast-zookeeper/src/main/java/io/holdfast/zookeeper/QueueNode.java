package io.holdfast.zookeeper;

import io.holdfast.LockMode;
import io.holdfast.store.LockRequest;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Optional;

/**
 * One entry of a lock's queue: an ephemeral sequential node whose name says who asked for what, so
 * that deciding who holds the lock needs only the list of children, no reads of their data.
 *
 * <p>A node's name is {@code KIND.OWNER.SEQUENCE}: {@code x} for an exclusive lock, {@code s} for a
 * shared one, {@code pN-M} for N permits of a semaphore of M; the owner of the attempt
 * (percent-encoded, so it has no dot); and the ten digits ZooKeeper appends.
 */
record QueueNode(String name, long sequence, LockMode mode, int permits, int maxPermits, String owner) {
    static final Comparator<QueueNode> BY_SEQUENCE = Comparator.comparingLong(QueueNode::sequence);

    /** The name prefix (before ZooKeeper's sequence) of a node for this request. */
    static String prefix(LockRequest request) {
        String kind = switch (request.mode()) {
            case EXCLUSIVE -> "x";
            case SHARED -> "s";
            case PERMITS -> "p" + request.permits() + "-" + request.maxPermits();
        };
        return kind + "." + encode(request.owner()) + ".";
    }

    /** The node of a child name, or empty for a name that is not ours. */
    static Optional<QueueNode> parse(String name) {
        String[] parts = name.split("\\.", -1);
        if (parts.length != 3 || parts[2].length() != 10) {
            return Optional.empty();
        }
        try {
            long sequence = Long.parseLong(parts[2]);
            String owner = decode(parts[1]);
            String kind = parts[0];
            if (kind.equals("x")) {
                return Optional.of(new QueueNode(name, sequence, LockMode.EXCLUSIVE, 1, 1, owner));
            }
            if (kind.equals("s")) {
                return Optional.of(new QueueNode(name, sequence, LockMode.SHARED, 1, 1, owner));
            }
            if (kind.startsWith("p")) {
                int dash = kind.indexOf('-');
                int permits = Integer.parseInt(kind.substring(1, dash));
                int max = Integer.parseInt(kind.substring(dash + 1));
                if (permits >= 1 && permits <= max) {
                    return Optional.of(new QueueNode(name, sequence, LockMode.PERMITS, permits, max, owner));
                }
            }
        } catch (RuntimeException malformed) {
            // not one of ours: ignored below
        }
        return Optional.empty();
    }

    boolean semaphore() {
        return mode == LockMode.PERMITS;
    }

    /** Percent-encodes everything but letters, digits, '_' and '-' (so the result has no '.', '/' or '%'). */
    static String encode(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        return b.toString();
    }

    /** The inverse of {@link #encode}. @throws IllegalArgumentException if {@code s} is not such an encoding */
    static String decode(String s) {
        byte[] out = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated escape in " + s);
                }
                out[n++] = (byte) Integer.parseInt(s.substring(i + 1, i + 3), 16);
                i += 2;
            } else {
                out[n++] = (byte) c;
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }
}
