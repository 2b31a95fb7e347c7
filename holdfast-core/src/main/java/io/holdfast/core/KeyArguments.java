package io.holdfast.core;

import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.PutOptions.Lifetime;
import io.holdfast.model.KeyDelete;
import java.nio.charset.StandardCharsets;

/**
 * The checks of a key command's arguments ({@link Registers}, {@link Transactions}): a key's name,
 * a value's size, an expected version, a time to live, each refused with {@link
 * InvalidArgumentException} naming its limit before anything changes; and the byte order of keys.
 */
final class KeyArguments {
    private KeyArguments() {}

    /** A key's name, checked: {@link Limits#MAX_KEY_BYTES} of UTF-8 at most. */
    static String checkKey(String key) {
        return Names.check(key);
    }

    static void checkValue(byte[] value) {
        if (value == null) {
            throw new InvalidArgumentException("value must not be null");
        }
        if (value.length > Limits.MAX_VALUE_BYTES) {
            throw new InvalidArgumentException(
                    "value is " + value.length + " bytes; the limit is " + Limits.MAX_VALUE_BYTES);
        }
    }

    static void checkExpected(long expected) {
        if (expected < 0 && expected != KeyDelete.ANY_VERSION) {
            throw new InvalidArgumentException(
                    "expected version must be 0 or more, or " + KeyDelete.ANY_VERSION + " for any, not " + expected);
        }
    }

    static void checkTtl(long ttlMillis, Lifetime lifetime) {
        if (lifetime == Lifetime.KEEP && ttlMillis != 0) {
            throw new InvalidArgumentException("a put that keeps the key's lifetime cannot give it a time to live");
        }
        if (ttlMillis != 0) {
            Limits.checkRange("a key's time to live", ttlMillis, Limits.MIN_KEY_TTL_MILLIS, Limits.MAX_KEY_TTL_MILLIS);
        }
    }

    /** The bytes a key's name takes in UTF-8. */
    static int utf8Length(String key) {
        return key.getBytes(StandardCharsets.UTF_8).length;
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
