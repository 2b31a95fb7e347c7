package io.holdfast.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.holdfast.server.config.RaftSettings;
import org.slf4j.Marker;

/**
 * A logback turbo filter that drops what Ratis logs about the throwaway Raft group a member leads
 * once after it starts, to have the leader's paths compiled before it is elected (the server's
 * leader rehearsal). Its two servers stop as soon as it is done, and Ratis logs their ordinary
 * shutdown at WARN (an appender "is interrupted", a stream "CANCELLED", a stack trace for a closed
 * client): lines about peers no operator configured. The member logs the rehearsal itself, on one
 * line, done or failed.
 *
 * <p>An event is dropped when it comes from Ratis and its thread's name or one of its arguments
 * names a rehearsal peer ({@link RaftSettings#REHEARSAL_PEER_PREFIX}). Nothing else is: not the
 * node's own Raft group, not other libraries, not Holdfast's lines.
 */
public final class Rehearsals extends TurboFilter {
    private static final String RATIS = "org.apache.ratis";

    /**
     * Called by logback for every logging call: it looks only at Ratis's events that would be written
     * (WARN and above by default, so rare), and only then at their arguments' text.
     */
    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level == null
                || !level.isGreaterOrEqual(logger.getEffectiveLevel())
                || !logger.getName().startsWith(RATIS)) {
            return FilterReply.NEUTRAL;
        }
        return aboutRehearsal(Thread.currentThread().getName(), format, params)
                ? FilterReply.DENY
                : FilterReply.NEUTRAL;
    }

    /** Whether the thread's name, the format or an argument names a rehearsal peer. */
    static boolean aboutRehearsal(String thread, String format, Object[] params) {
        String peer = RaftSettings.REHEARSAL_PEER_PREFIX;
        if (thread.contains(peer) || (format != null && format.contains(peer))) {
            return true;
        }
        if (params != null) {
            for (Object p : params) {
                if (p != null && !(p instanceof Throwable) && String.valueOf(p).contains(peer)) {
                    return true;
                }
            }
        }
        return false;
    }
}
