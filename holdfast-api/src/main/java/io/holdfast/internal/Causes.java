package io.holdfast.internal;

import java.util.Locale;
import java.util.function.Predicate;

/**
 * The real reason behind a failure, for one-line messages: the deepest throwable in a cause chain
 * that says something. Every module that turns an exception into a user's one-line error goes
 * through here, so that they all name the same cause in the same way.
 *
 * <p>What it guarantees: the message it builds is one line, starts with the caller's message, and
 * names the deepest cause with a message unless the caller's message already contains it (or both
 * say "connection refused"). It walks at most 64 links and stops at a cycle, so a self-referencing
 * chain cannot hang it. What it does not do: judge which cause matters beyond "deepest, not
 * skipped"; callers that know better (the JDBC driver's own exception over a pool's) pass a
 * filter. One failure story it prevents: a PostgreSQL pool's "Connection is not available, request
 * timed out after 10000ms" shown alone, when two links down the driver said "Connection to
 * 127.0.0.1:5999 refused".
 */
public final class Causes {
    private static final int MAX_DEPTH = 64;

    private Causes() {}

    /**
     * The deepest throwable from {@code start} (included) down its cause chain whose message is not
     * blank and which {@code skip} does not match; null if there is none.
     */
    public static Throwable deepest(Throwable start, Predicate<Throwable> skip) {
        Throwable found = null;
        int depth = 0;
        for (Throwable c = start; c != null && depth < MAX_DEPTH; c = c.getCause() == c ? null : c.getCause()) {
            depth++;
            if (!skip.test(c) && c.getMessage() != null && !c.getMessage().isBlank()) {
                found = c;
            }
        }
        return found;
    }

    /** The first throwable from {@code start} (included) down its cause chain that is a {@code type}; null if none. */
    public static <T extends Throwable> T find(Throwable start, Class<T> type) {
        int depth = 0;
        for (Throwable c = start; c != null && depth < MAX_DEPTH; c = c.getCause() == c ? null : c.getCause()) {
            depth++;
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    /** The deepest throwable from {@code start} down whose message is not blank; null if none. */
    public static Throwable deepest(Throwable start) {
        return deepest(start, c -> false);
    }

    /**
     * {@code message}, then {@code ": "} and the message of {@code cause} on one line, unless
     * {@code cause} is null or {@code message} already says it.
     */
    public static String append(String message, Throwable cause) {
        if (cause == null) {
            return message;
        }
        String reason = oneLine(cause.getMessage());
        String lowerMessage = message.toLowerCase(Locale.ROOT);
        String lowerReason = reason.toLowerCase(Locale.ROOT);
        if (reason.isEmpty()
                || lowerMessage.contains(lowerReason)
                || (lowerReason.contains("connection refused") && lowerMessage.contains("connection refused"))) {
            return message;
        }
        return message + ": " + reason;
    }

    /** {@code message} and the deepest cause below {@code e} (see {@link #append}). */
    public static String withCause(String message, Throwable e) {
        return append(message, deepest(e));
    }

    /**
     * The message of the deepest cause below {@code e} (included), on one line; the simple name of
     * {@code e}'s class when no link of the chain says anything.
     */
    public static String rootMessage(Throwable e) {
        Throwable root = deepest(e);
        return root == null ? e.getClass().getSimpleName() : oneLine(root.getMessage());
    }

    /** A message on one line: line breaks and the spaces around them become one space. */
    public static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
