package io.holdfast.file;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Maps lock names (1 to 512 bytes of UTF-8, with {@code /} and anything but control characters) to
 * safe file names: {@code READABLE.HASH.lock}.
 *
 * <ul>
 *   <li>{@code HASH} is the SHA-256 of the name's UTF-8 bytes, 64 lower-case hex digits. It alone
 *       decides which file a name gets: two names share a file only if their SHA-256 collide.
 *   <li>{@code READABLE} is for operators only: the name's first 64 characters with every
 *       character outside {@code [A-Za-z0-9._-]} replaced, {@code /} by {@code ~} and everything
 *       else by {@code _}. It may be the same for different names; the hash tells them apart.
 * </ul>
 *
 * The result is at most 64 + 1 + 64 + 5 = 134 ASCII bytes, below every common file-name limit (255),
 * contains no path separator, and cannot be {@code .} or {@code ..}.
 */
final class LockFileNames {
    static final String SUFFIX = ".lock";
    private static final int READABLE_CHARS = 64;

    private LockFileNames() {}

    /** The file name of the lock {@code name}. */
    static String of(String name) {
        StringBuilder readable = new StringBuilder(READABLE_CHARS + 70);
        for (int i = 0; i < name.length() && readable.length() < READABLE_CHARS; ) {
            int cp = name.codePointAt(i);
            i += Character.charCount(cp);
            if ((cp >= 'a' && cp <= 'z')
                    || (cp >= 'A' && cp <= 'Z')
                    || (cp >= '0' && cp <= '9')
                    || cp == '.'
                    || cp == '-'
                    || cp == '_') {
                readable.append((char) cp);
            } else if (cp == '/') {
                readable.append('~');
            } else {
                readable.append('_');
            }
        }
        return readable.append('.').append(sha256(name)).append(SUFFIX).toString();
    }

    /** The SHA-256 of the name's UTF-8 bytes, 64 lower-case hex digits. */
    static String sha256(String name) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(name.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
