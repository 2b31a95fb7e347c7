package io.holdfast.internal;

/**
 * The numbers in the records registers hold ({@code <epoch>:<value>}, {@code latch:...}, {@code
 * barrier:...}; docs/protocol.md, "Records in registers"): one or more ASCII digits, nothing else
 * (no sign, no space), at most {@link Long#MAX_VALUE}. Leading zeros are read, never written.
 */
public final class RecordNumbers {
    private RecordNumbers() {}

    /** The number {@code text} spells, or -1 if it spells none. */
    public static long parse(String text) {
        if (text.isEmpty()) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return -1; // beyond Long.MAX_VALUE
        }
    }

    /** The number {@code text} spells if it is at most {@link Integer#MAX_VALUE}, or -1. */
    public static int parseInt(String text) {
        long n = parse(text);
        return n <= Integer.MAX_VALUE ? (int) n : -1;
    }
}
