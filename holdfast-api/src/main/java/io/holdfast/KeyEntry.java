package io.holdfast;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One key as a {@link Keys} read, list or watch saw it.
 *
 * @param key the key
 * @param version its version: 1 at its first write after it was absent, one more with each write
 * @param value a copy of its value (at most {@link Keys#MAX_VALUE_BYTES} bytes)
 * @param owner the session the key is attached to ({@link PutOptions#attached()}); null when none
 */
public record KeyEntry(String key, long version, byte[] value, String owner) {
    public KeyEntry {
        Objects.requireNonNull(key, "key");
        value = value == null ? new byte[0] : value.clone();
    }

    /** A copy of the value. */
    @Override
    public byte[] value() {
        return value.clone();
    }

    /** The value read as UTF-8 text. */
    public String text() {
        return new String(value, StandardCharsets.UTF_8);
    }

    /**
     * The value read as a counter ({@link Keys#add}, {@link Counters}): 8 bytes, a signed
     * big-endian 64-bit integer.
     *
     * @throws InvalidArgumentException when the value is not 8 bytes long, in {@link Counters}'s
     *     words
     */
    public long counter() {
        return Counters.decode(key, value);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyEntry e
                && key.equals(e.key)
                && version == e.version
                && Arrays.equals(value, e.value)
                && Objects.equals(owner, e.owner);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, version, Arrays.hashCode(value), owner);
    }

    @Override
    public String toString() {
        return "KeyEntry[" + key + " version " + version + ", " + value.length + " bytes"
                + (owner == null ? "" : ", owner " + owner) + "]";
    }
}
