package io.holdfast;

import java.nio.charset.StandardCharsets;

/**
 * The rules for lock, semaphore and register names: 1 to {@value #MAX_NAME_BYTES} bytes of UTF-8,
 * no control characters, {@code /}-separated like paths so that permissions can be granted by
 * prefix. A segment is never {@code .} or {@code ..}: a name like {@code a/../b} would look like
 * {@code b} to anything that resolves paths while a permission on {@code a/*} matched it. Every
 * provider checks names with {@link #check(String)} before doing anything.
 */
public final class Names {
    /** The longest name, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 512;

    private Names() {}

    /**
     * Returns the name if it is valid.
     *
     * @throws InvalidArgumentException naming what is wrong, if it is null, empty, too long, not
     *     well-formed Unicode, contains a control character, or has a {@code .} or {@code ..}
     *     segment
     */
    public static String check(String name) {
        if (name == null) {
            throw new InvalidArgumentException("name must not be null");
        }
        if (name.isEmpty()) {
            throw new InvalidArgumentException("name must not be empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c)) {
                throw new InvalidArgumentException(
                        "name must not contain control characters (found U+%04X at %d)".formatted((int) c, i));
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= name.length() || !Character.isLowSurrogate(name.charAt(i + 1))) {
                    throw new InvalidArgumentException("name is not well-formed UTF-16 (lone surrogate at " + i + ")");
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                throw new InvalidArgumentException("name is not well-formed UTF-16 (lone surrogate at " + i + ")");
            }
        }
        for (String segment : name.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                throw new InvalidArgumentException("name must not have a '" + segment + "' segment: " + name);
            }
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            throw new InvalidArgumentException("name is " + bytes + " bytes of UTF-8; the limit is " + MAX_NAME_BYTES);
        }
        return name;
    }
}
