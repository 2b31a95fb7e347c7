package io.holdfast;

import java.nio.ByteBuffer;

/**
 * What a counter of {@link Keys} is, and how an {@link Keys#add add} that cannot count is refused:
 * one rule, which the server's lock table, every store provider and {@link KeyEntry#counter()}
 * apply, so that a caller meets the same refusal, in the same words, whatever it talks to.
 *
 * <p>A counter is a key whose value is {@value #BYTES} bytes, a signed big-endian 64-bit integer
 * ({@link #encode}); an absent key counts as 0. An add is refused with {@link #REFUSED} ({@link
 * InvalidArgumentException}), and nothing changes, when the key holds another number of bytes
 * ({@code "jobs/last holds 5 bytes, not a counter (exactly 8 bytes)"}) or when the sum would leave
 * the 64-bit range ({@code "hits is 9223372036854775807; adding 1 would overflow a 64-bit
 * counter"}). {@link #refusal} says which, in those words.
 *
 * <p>Guarantees: every method is pure and thread-safe. Does not read or write a key: a provider
 * applies the rule to what it read, in the step that writes the sum.
 */
public final class Counters {
    /** How many bytes a counter's value has. */
    public static final int BYTES = Long.BYTES;

    /** The error code of a refused add: {@link InvalidArgumentException}. */
    public static final ErrorCode REFUSED = ErrorCode.INVALID_ARGUMENT;

    private Counters() {}

    /** The value of a counter at {@code count}: {@value #BYTES} bytes, big-endian. */
    public static byte[] encode(long count) {
        return ByteBuffer.allocate(BYTES).putLong(count).array();
    }

    /**
     * The number a key's value counts.
     *
     * @param value the key's value; null when it is absent (0)
     * @throws InvalidArgumentException when the value is not {@value #BYTES} bytes, in the words of
     *     {@link #refusal}
     */
    public static long decode(String key, byte[] value) {
        if (value == null) {
            return 0;
        }
        if (value.length != BYTES) {
            throw new InvalidArgumentException(notACounter(key, value.length));
        }
        return ByteBuffer.wrap(value).getLong();
    }

    /**
     * Why adding {@code delta} to a key that holds {@code value} is refused, or null when it counts.
     *
     * @param value the key's value; null when it is absent (0: any delta counts)
     * @return {@code "K holds N bytes, not a counter (exactly 8 bytes)"}, {@code "K is V; adding D
     *     would overflow a 64-bit counter"}, or null
     */
    public static String refusal(String key, byte[] value, long delta) {
        if (value != null && value.length != BYTES) {
            return notACounter(key, value.length);
        }
        long before = decode(key, value);
        long sum = before + delta;
        if (((before ^ sum) & (delta ^ sum)) < 0) {
            return key + " is " + before + "; adding " + delta + " would overflow a 64-bit counter";
        }
        return null;
    }

    /**
     * The counter after adding {@code delta} to a key that holds {@code value}.
     *
     * @param value the key's value; null when it is absent (0)
     * @throws InvalidArgumentException when the add is refused, with {@link #refusal}'s message
     */
    public static long add(String key, byte[] value, long delta) {
        String refused = refusal(key, value, delta);
        if (refused != null) {
            throw new InvalidArgumentException(refused);
        }
        return decode(key, value) + delta;
    }

    private static String notACounter(String key, int length) {
        return key + " holds " + length + " bytes, not a counter (exactly " + BYTES + " bytes)";
    }
}
