package io.holdfast.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.regex.Pattern;
import org.slf4j.Marker;

/**
 * A logback turbo filter that drops what Ratis logs about requests that reached this node while its
 * own Raft division was closing: the node is stopping (or was removed), and says so itself ({@code
 * Node n3 stopped}).
 *
 * <p>When the members of a cluster stop one after another, a follower that closes first still gets
 * the leader's appends for a moment; Ratis answers each with a {@code ServerNotReadyException}
 * ({@code … is not in [STARTING, RUNNING]: current state is CLOSING}) and logs {@code Failed
 * appendEntries*} at ERROR with a stack trace of 30 lines, which trips log-based alerting on an
 * ordinary shutdown (issue 71). This filter takes away every Ratis event whose exception, or a
 * cause of it, is that refusal in state {@code CLOSING} or {@code CLOSED}.
 *
 * <p>Does not hide a division that is not ready for any other reason (starting, or failed: state
 * {@code EXCEPTION}), nor anything logged by other libraries or by Holdfast itself.
 */
public final class OwnShutdown extends TurboFilter {
    private static final String RATIS = "org.apache.ratis";
    private static final Pattern CLOSING = Pattern.compile("current state is (?:CLOSING|CLOSED)\\b");

    /**
     * Called by logback for every logging call, before the level check, at every level and on every request
     * path: it must cost next to nothing. So it never formats the message (formatting called {@code toString()} on
     * Ratis's request objects for every DEBUG and TRACE call of every request, 2026-12-01's profile of the
     * leader under W1), and looks only at events that would be written.
     */
    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (format == null
                || level == null
                || !level.isGreaterOrEqual(logger.getEffectiveLevel())
                || !logger.getName().startsWith(RATIS)) {
            return FilterReply.NEUTRAL;
        }
        return closing(t != null ? t : lastThrowable(params)) ? FilterReply.DENY : FilterReply.NEUTRAL;
    }

    /** The event's exception as SLF4J takes it when none is passed apart: the last argument, if a throwable. */
    private static Throwable lastThrowable(Object[] params) {
        return params != null && params.length > 0 && params[params.length - 1] instanceof Throwable thrown
                ? thrown
                : null;
    }

    /** Whether {@code thrown} or one of its causes is Ratis's refusal of a closing division. */
    static boolean closing(Throwable thrown) {
        int depth = 0;
        for (Throwable c = thrown; c != null && depth < 20; c = c.getCause(), depth++) {
            if (c.getClass().getSimpleName().equals("ServerNotReadyException")
                    && c.getMessage() != null
                    && CLOSING.matcher(c.getMessage()).find()) {
                return true;
            }
        }
        return false;
    }
}
