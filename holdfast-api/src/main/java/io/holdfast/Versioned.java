package io.holdfast;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A value of a {@link VersionedRegister} with its version. Versions start at 1 with the first
 * write and grow by one with each write; version 0 means "absent".
 */
public final class Versioned {
    private final String key;
    private final long version;
    private final byte[] value;

    public Versioned(String key, long version, byte[] value) {
        this.key = key;
        this.version = version;
        this.value = value.clone();
    }

    public String key() {
        return key;
    }

    public long version() {
        return version;
    }

    /** A copy of the value. */
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Versioned other
                && key.equals(other.key)
                && version == other.version
                && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return (key.hashCode() * 31 + Long.hashCode(version)) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        String shown = value.length <= 32
                ? HexFormat.of().formatHex(value)
                : HexFormat.of().formatHex(value, 0, 32) + "…";
        return "Versioned[" + key + " v" + version + " " + value.length + " bytes " + shown + "]";
    }
}
