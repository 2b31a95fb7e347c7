package io.holdfast.internal;

import java.util.regex.Pattern;

/**
 * Takes the secrets out of a backend URI before it goes into a message or a log line: every
 * provider and the API itself pass URIs through {@link #uri(String)} before quoting them.
 *
 * <p>What is replaced by {@code ***}: the password of the URI's user information
 * ({@code redis://user:pw@host} becomes {@code redis://user:***@host}); the whole user information
 * when it has no colon, since for Redis that part is the password ({@code redis://pw@host} becomes
 * {@code redis://***@host}); and the value of every parameter whose name contains {@code password},
 * {@code passwd}, {@code pwd}, {@code token} or {@code secret}, in any case, after {@code ?},
 * {@code &}, {@code ;} or {@code ,} (JDBC URLs of every vendor, {@code holdfast://…?token=…}).
 * Host names, ports, user names, paths and file names (such as a TLS key's path) stay, so that the
 * message still says where.
 *
 * <p>What it does not do: recognise a secret under any other name, or inside a value that is
 * itself URL-encoded into another parameter. A provider that accepts a secret under another name
 * must redact it itself. One failure story it prevents: {@code holdfast lock} against a mistyped
 * scheme quotes the URI in its one-line error, and that line goes to a CI log; without redaction
 * the bearer token would go with it.
 */
public final class Redaction {
    private static final Pattern USER_PASSWORD = Pattern.compile("(://[^:@/?#]*):[^@/?#]*@");
    private static final Pattern USER_ONLY = Pattern.compile("://[^:@/?#]+@");
    private static final Pattern SECRET_PARAMETER =
            Pattern.compile("(?i)([?&;,][^=&;,?#]*(?:password|passwd|pwd|token|secret)[^=&;,?#]*=)[^&;,#]*");

    private Redaction() {}

    /** The URI with its secrets replaced by {@code ***}; {@code null} stays {@code null}. */
    public static String uri(String uri) {
        if (uri == null) {
            return null;
        }
        String s = USER_PASSWORD.matcher(uri).replaceFirst("$1:***@");
        s = USER_ONLY.matcher(s).replaceFirst("://***@");
        return SECRET_PARAMETER.matcher(s).replaceAll("$1***");
    }
}
