package io.holdfast.core;

import java.nio.charset.StandardCharsets;

/**
 * A session id as the 128 bits it encodes, so that the table keeps two longs per session instead
 * of a string (a 22-character {@code String} and its array cost 64 bytes on every replica).
 *
 * <p><b>Guarantees.</b> An id {@link #fits} when it is the URL-safe Base64 of 16 bytes without
 * padding, in its one canonical spelling (22 characters of {@code A-Z a-z 0-9 - _}, the last one's
 * four low bits clear, as every {@link io.holdfast.model.SessionIds#newId()} is), and not 16 zero
 * bytes; then {@link #text}({@link #high}, {@link #low}) is that id again, character for
 * character. <b>Not</b> every valid id fits: a shorter or longer one, or a 22-character one whose
 * last character carries bits that 16 bytes do not have, is kept as text by its holder. <b>Failure
 * story:</b> decoding with {@link java.util.Base64}, which ignores the last character's spare
 * bits, would give {@code ...AB} and {@code ...AA} the same key, and one client's session to
 * another.
 */
final class CompactId {
    /** The length of an id that may fit: 16 bytes in Base64. */
    static final int LENGTH = 22;

    private static final byte[] ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] VALUES = new byte[128];

    static {
        java.util.Arrays.fill(VALUES, (byte) -1);
        for (int i = 0; i < ALPHABET.length; i++) {
            VALUES[ALPHABET[i]] = (byte) i;
        }
    }

    private CompactId() {}

    /** Whether {@code id} is kept as {@link #high} and {@link #low}: see the class comment. */
    static boolean fits(String id) {
        if (id.length() != LENGTH) {
            return false;
        }
        int any = 0;
        for (int i = 0; i < LENGTH; i++) {
            char c = id.charAt(i);
            if (c >= 128 || VALUES[c] < 0) {
                return false;
            }
            any |= VALUES[c];
        }
        return (VALUES[id.charAt(LENGTH - 1)] & 0xf) == 0 && any != 0;
    }

    /**
     * {@link #fits}, {@link #high} and {@link #low} in one pass: whether {@code id} fits, and if so
     * its bits in {@code into[0]} and {@code into[1]} (the table's lookups parse every command's id).
     */
    static boolean parse(String id, long[] into) {
        if (id.length() != LENGTH) {
            return false;
        }
        long high = 0;
        for (int i = 0; i < 10; i++) {
            int v = value(id.charAt(i));
            if (v < 0) {
                return false;
            }
            high = (high << 6) | v;
        }
        int middle = value(id.charAt(10));
        int last = value(id.charAt(LENGTH - 1));
        if (middle < 0 || last < 0 || (last & 0xf) != 0) {
            return false;
        }
        high = (high << 4) | (middle >>> 2);
        long low = middle & 3;
        for (int i = 11; i < LENGTH - 1; i++) {
            int v = value(id.charAt(i));
            if (v < 0) {
                return false;
            }
            low = (low << 6) | v;
        }
        low = (low << 2) | (last >>> 4);
        if ((high | low) == 0) {
            return false;
        }
        into[0] = high;
        into[1] = low;
        return true;
    }

    private static int value(char c) {
        return c < 128 ? VALUES[c] : -1;
    }

    /** The first 64 bits of an id that {@link #fits}. */
    static long high(String id) {
        long v = 0;
        for (int i = 0; i < 10; i++) {
            v = (v << 6) | VALUES[id.charAt(i)];
        }
        return (v << 4) | (VALUES[id.charAt(10)] >>> 2);
    }

    /** The last 64 bits of an id that {@link #fits}. */
    static long low(String id) {
        long v = VALUES[id.charAt(10)] & 3;
        for (int i = 11; i < LENGTH - 1; i++) {
            v = (v << 6) | VALUES[id.charAt(i)];
        }
        return (v << 2) | (VALUES[id.charAt(LENGTH - 1)] >>> 4);
    }

    /** The id whose bits these are: the inverse of {@link #high} and {@link #low}. */
    static String text(long high, long low) {
        byte[] out = new byte[LENGTH];
        for (int i = 0; i < 10; i++) {
            out[i] = ALPHABET[(int) (high >>> (58 - 6 * i)) & 63];
        }
        out[10] = ALPHABET[(int) ((high & 0xf) << 2 | low >>> 62)];
        for (int i = 11; i < LENGTH - 1; i++) {
            out[i] = ALPHABET[(int) (low >>> (56 - 6 * (i - 11))) & 63];
        }
        out[LENGTH - 1] = ALPHABET[(int) (low & 3) << 4];
        return new String(out, StandardCharsets.ISO_8859_1);
    }
}
