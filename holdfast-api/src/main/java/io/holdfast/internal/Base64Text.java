package io.holdfast.internal;

import java.util.Base64;
import java.util.Optional;

/**
 * Standard base64 (RFC 4648 section 4; the padding may be left out, as the JDK reads it) as values travel in Holdfast's JSON: the
 * CLI's {@code kv txn} files and the HTTP protocol's keys and transactions read it here, and say
 * why a text is not base64 in the same words ({@link #decode}).
 *
 * <p>Guarantees: what decodes is exactly what {@link Base64#getDecoder()} decodes; what does not
 * is refused with one of two reasons, the first character outside the alphabet and its position
 * ({@code '!' at character 3 is not a base64 character}), or {@code its length or its '='
 * padding is wrong}. Not guaranteed: which of several bad characters is named (the first).
 * Failure story it prevents: the HTTP protocol answered a value of {@code "hi!"} with the JDK's
 * {@code Illegal base64 character 21}, the character's code in hexadecimal.
 */
public final class Base64Text {
    private Base64Text() {}

    /** The bytes {@code text} encodes, or empty when it is not base64 ({@link #whyNot} says why). */
    public static Optional<byte[]> decode(String text) {
        try {
            return Optional.of(Base64.getDecoder().decode(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Why {@code text} is not base64, in the user's terms; call it when {@link #decode} found
     * nothing.
     */
    public static String whyNot(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean alphabet = (c >= 'A' && c <= 'Z')
                    || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9')
                    || c == '+'
                    || c == '/'
                    || c == '=';
            if (!alphabet) {
                return "'" + c + "' at character " + (i + 1) + " is not a base64 character";
            }
        }
        return "its length or its '=' padding is wrong";
    }
}
