package io.holdfast.model;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One page of keys listed by prefix ({@code io.holdfast.core.LockTable#keys}): in byte order of
 * their UTF-8 (code point order), read at one place in the log, the position right after the last
 * entry applied ({@link ChangePosition}), from which a watch of the same keys follows without a
 * gap.
 *
 * @param keys the keys of this page
 * @param more whether keys after the last of this page match too: the next page starts after it
 * @param position where the page was read in the order of changes
 */
public record KeyPage(List<Entry> keys, boolean more, ChangePosition position) {
    public KeyPage {
        keys = List.copyOf(keys);
        Objects.requireNonNull(position, "position");
    }

    private static final byte[] NO_VALUE = new byte[0];

    /** This page keys only (etcd's {@code --keys-only}): every entry's value empty, the rest as it is. */
    public KeyPage withoutValues() {
        List<Entry> out = new java.util.ArrayList<>(keys.size());
        for (Entry e : keys) {
            out.add(new Entry(e.key(), e.version(), NO_VALUE, e.owner(), e.expiresAt()));
        }
        return new KeyPage(out, more, position);
    }

    /**
     * One key as it is now.
     *
     * @param key the key
     * @param version its version, 1 or more
     * @param value a copy of its value
     * @param owner the session it is attached to; null when none
     * @param expiresAt the cluster time from which its time to live has passed; 0 when it has none
     */
    public record Entry(String key, long version, byte[] value, String owner, long expiresAt) {
        public Entry {
            Objects.requireNonNull(key, "key");
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        /** The bytes this key counts toward a page's limit: its UTF-8 and its value. */
        public int size() {
            return key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + value.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e
                    && key.equals(e.key)
                    && version == e.version
                    && Arrays.equals(value, e.value)
                    && Objects.equals(owner, e.owner)
                    && expiresAt == e.expiresAt;
        }

        @Override
        public int hashCode() {
            return Objects.hash(key, version, Arrays.hashCode(value), owner, expiresAt);
        }

        @Override
        public String toString() {
            return "Entry[" + key + " version " + version + ", " + value.length + " bytes"
                    + (owner == null ? "" : ", owner " + owner)
                    + (expiresAt == 0 ? "" : ", expires at " + expiresAt) + "]";
        }
    }
}
