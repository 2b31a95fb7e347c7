package io.holdfast.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;

/**
 * {@code %oneLineMsg}: the event's message on one line (line breaks and the indentation after them
 * become one space), followed, when the event carries an exception that {@link DebugTrace} does not
 * print, by that exception and its causes on the same line: {@code (StatusRuntimeException:
 * UNAVAILABLE: io exception; caused by ConnectException: Connection refused)}.
 *
 * <p>Guarantees: at INFO and WARN an event is one line, whatever its message or exception (the
 * stack trace is printed, by {@link DebugTrace}, only when its logger logs at DEBUG). Does not
 * guarantee short lines: a long message stays long.
 */
public final class OneLineMessage extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
        String message = flatten(event.getFormattedMessage());
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown == null || DebugTrace.printsTrace(event, context())) {
            return message;
        }
        StringBuilder line = new StringBuilder(message).append(" (");
        int depth = 0;
        for (IThrowableProxy t = thrown; t != null && depth < 8; t = t.getCause(), depth++) {
            line.append(depth == 0 ? "" : "; caused by ")
                    .append(simpleName(t.getClassName()))
                    .append(t.getMessage() == null ? "" : ": " + flatten(t.getMessage()));
        }
        return line.append(')').toString();
    }

    private LoggerContext context() {
        return getContext() instanceof LoggerContext c ? c : null;
    }

    /**
     * {@code text} with every line break, and the blanks around it, as one space, and every other
     * control character but a tab as {@code ?}: a message that carries raw bytes (Ratis prints a
     * request's payload in its retry failures) would otherwise put NULs into the log, which {@code
     * grep} then calls a binary file.
     */
    static String flatten(String text) {
        return text == null
                ? ""
                : text.replaceAll("[ \\t]*[\\r\\n]+[ \\t]*", " ")
                        .replaceAll("[\\p{Cntrl}&&[^\\t]]", "?")
                        .strip();
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    /** Whether an event at {@code level} is kept to one line unless its logger logs at DEBUG. */
    static boolean oneLine(Level level) {
        return !level.isGreaterOrEqual(Level.ERROR);
    }
}
