package io.holdfast.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.regex.Pattern;
import org.slf4j.Marker;
import org.slf4j.helpers.MessageFormatter;

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

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (format == null || !logger.getName().startsWith(RATIS)) {
            return FilterReply.NEUTRAL;
        }
        Throwable thrown =
                t != null ? t : MessageFormatter.arrayFormat(format, params).getThrowable();
        return closing(thrown) ? FilterReply.DENY : FilterReply.NEUTRAL;
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
