package io.holdfast.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.pattern.ThrowableHandlingConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %debugTrace}: the stack trace of the event's exception, on the lines after the event, only
 * when the event is an ERROR or its logger logs at DEBUG; otherwise nothing ({@link OneLineMessage}
 * then puts the exception on the event's line). A logback pattern with this converter gets no
 * other stack trace.
 */
public final class DebugTrace extends ThrowableHandlingConverter {
    private final ThrowableProxyConverter full = new ThrowableProxyConverter();

    @Override
    public void start() {
        full.setContext(getContext());
        full.setOptionList(getOptionList());
        full.start();
        super.start();
    }

    @Override
    public void stop() {
        full.stop();
        super.stop();
    }

    @Override
    public String convert(ILoggingEvent event) {
        if (event.getThrowableProxy() == null
                || !printsTrace(event, getContext() instanceof LoggerContext c ? c : null)) {
            return "";
        }
        return full.convert(event);
    }

    /** Whether {@code event}'s stack trace is printed: an ERROR, or a logger that logs at DEBUG. */
    static boolean printsTrace(ILoggingEvent event, LoggerContext context) {
        if (!OneLineMessage.oneLine(event.getLevel())) {
            return true;
        }
        return context != null && context.getLogger(event.getLoggerName()).isEnabledFor(Level.DEBUG);
    }
}
