package io.holdfast.verify.history;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One key as a key operation named or saw it: in a transaction's compares the version expected (0:
 * absent); in its puts the value written; in what a read, a listing or a transaction answered the
 * version (0: absent) and the value. The workload's values are whole numbers, kept as their decimal
 * text in the service.
 *
 * @param key the key
 * @param version its version (0: absent), or the version a compare expects
 * @param value its value as a number
 * @param owner the session a read saw the key attached to (its owner); null when absent, attached to
 *     none, or not recorded (a history written before owners were, and every compare and put)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KeyValue(String key, long version, long value, String owner) {
    /** A key with no owner recorded. */
    public KeyValue(String key, long version, long value) {
        this(key, version, value, null);
    }

    /** The key absent: version 0, no value. */
    public static KeyValue absent(String key) {
        return new KeyValue(key, 0, 0);
    }

    /** Whether the key is absent. */
    public boolean isAbsent() {
        return version == 0;
    }

    /**
     * The group of keys the checkers take as one object ({@link Call#key()} of a key operation):
     * the key up to and including its last {@code /} ({@code acct/a} is in {@code acct/}), or the
     * key itself without one.
     */
    public static String space(String key) {
        int slash = key.lastIndexOf('/');
        return slash < 0 ? key : key.substring(0, slash + 1);
    }

    @Override
    public String toString() {
        return key + (version == 0 ? " absent" : "@" + version + "=" + value) + (owner == null ? "" : " of " + owner);
    }
}
