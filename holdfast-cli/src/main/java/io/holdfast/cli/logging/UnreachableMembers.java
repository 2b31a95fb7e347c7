package io.holdfast.cli.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.holdfast.internal.LineThrottle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Marker;
import org.slf4j.helpers.MessageFormatter;

/**
 * A logback turbo filter that turns Ratis's warnings about a member the leader cannot reach into
 * one line when it starts and one line a minute while it lasts, with a count.
 *
 * <p>While a member is down, the leader's Ratis appender for it warns at every failed send: a few
 * times a second ({@code n2@group-…->n4-GrpcLogAppender: Follower failed (request=null,
 * errorCount=34); keep nextIndex (5) unchanged and retry.}, {@code …->n4-AppendLogResponseHandler:
 * Failed appendEntries: …}, and for a new member that does not answer, {@code …->n6-InstallSnapshot:
 * Failed InstallSnapshot: …}, with the exception's causes on lines of their own), and its own
 * throttle still lets through several lines every five seconds: 27 lines from one node in one
 * short outage. This filter takes those warnings (logger {@value #APPENDER}, WARN and above) away
 * and logs instead, at WARN on logger {@value #LOGGER}:
 *
 * <ul>
 *   <li>at the first failure: {@code Node n2 cannot reach member n4: Connection refused:
 *       /127.0.0.1:5031 (said again once a minute while it lasts)};
 *   <li>at the first failure a minute or more after the last line: {@code Node n2 still cannot
 *       reach member n4: 240 failed sends in the last 60s (last: Connection refused: …)}.
 * </ul>
 *
 * <p>The appender is named {@code GrpcLogAppender}, or {@code CommitCarrier}: Holdfast's own
 * subclass of it on a node ({@code io.holdfast.server.config.CommitCarrier}), which logs on the same
 * logger under its own name.
 *
 * <p>A failure after a minute without any starts again with the first line. The appender's
 * warnings that it was interrupted (it stops when the leadership moves or the member is removed;
 * the node logs that itself) are dropped. Its other warnings (an INCONSISTENCY reply while a
 * follower catches up) pass unchanged.
 *
 * <p>Does not guarantee a line when the member is back: Ratis does not warn about success, so the
 * end of an outage shows as the end of the lines. Failures in the minute before it came back are
 * not counted anywhere. Time comes from an injected clock (monotonic nanoseconds; a test sets its own).
 * The counting and the once-a-minute rule are {@link LineThrottle}'s, which the server's
 * failed-authentication lines share.
 */
public final class UnreachableMembers extends TurboFilter {
    /** The Ratis logger whose warnings this filter summarizes. */
    public static final String APPENDER = "org.apache.ratis.grpc.server.GrpcLogAppender";
    /** The logger of the lines this filter writes instead. */
    public static final String LOGGER = "io.holdfast.server.UnreachableMembers";

    private static final Pattern SHAPE = Pattern.compile(
            "(?s)([^@\\s]+)@group-\\w+->(\\S+)-(?:GrpcLogAppender|CommitCarrier|AppendLogResponseHandler|InstallSnapshot(?:ResponseHandler)?)"
                    + "\\b:?\\s*(.*)");
    private static final Pattern REPEATED = Pattern.compile("Repeated (\\d+) times");

    private LongSupplier clock = System::nanoTime;
    /** One line per member at the start of an outage, then one a minute: the shared engine. */
    private LineThrottle throttle = throttle(Duration.ofMinutes(1));

    /** For tests: the clock, in monotonic nanoseconds. */
    void clock(LongSupplier clock) {
        this.clock = clock;
    }

    /** How often a lasting outage is reported (default one minute); for tests, and logback's {@code <every>}. */
    public void setEvery(String every) {
        this.throttle = throttle(Duration.parse(every));
    }

    private LineThrottle throttle(Duration every) {
        return new LineThrottle(() -> clock.getAsLong(), every, 1_000);
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (format == null
                || level == null
                || !level.isGreaterOrEqual(Level.WARN)
                || !APPENDER.equals(logger.getName())) {
            return FilterReply.NEUTRAL;
        }
        var formatted = MessageFormatter.arrayFormat(format, params);
        Matcher m = SHAPE.matcher(formatted.getMessage());
        if (!m.matches()) {
            return FilterReply.NEUTRAL;
        }
        String what = m.group(3);
        if (what.contains("is interrupted")) {
            return FilterReply.DENY;
        }
        if (what.contains("INCONSISTENCY")) {
            return FilterReply.NEUTRAL;
        }
        Throwable thrown = t != null ? t : formatted.getThrowable();
        if (closedHere(what, thrown)) {
            return FilterReply.DENY; // this node's own division is closing (it stops, or was removed): no outage
        }
        failed(m.group(1), m.group(2), repeats(what), reason(what, thrown));
        return FilterReply.DENY;
    }

    private void failed(String self, String member, long count, String reason) {
        // "Follower failed" says only that a send failed: a summary names the last reason that said why.
        boolean says = !reason.startsWith("Follower failed");
        LineThrottle.Say say = throttle.occurred(self + "->" + member, count, says ? reason : null);
        if (say == null) {
            return;
        }
        String line = say.first()
                ? "Node " + self + " cannot reach member " + member + ": " + reason
                        + " (said again once a minute while it lasts)"
                : "Node " + self + " still cannot reach member " + member + ": " + say.count()
                        + " failed sends in the last " + say.since().toSeconds() + "s (last: "
                        + (say.detail() == null ? reason : say.detail()) + ")";
        if (getContext() instanceof LoggerContext c) {
            c.getLogger(LOGGER).warn(line);
        }
    }

    /** How many failures one warning stands for: Ratis's own throttle says "Repeated N times". */
    private static long repeats(String what) {
        Matcher r = REPEATED.matcher(what);
        return r.find() ? Long.parseLong(r.group(1)) : 1;
    }

    /**
     * The deepest cause's message ("Connection refused"), from the exception or, when Ratis wrote
     * the causes into its message, from its "Caused by:" parts, without Java class names; a cause
     * above it that says the same and more ("Connection refused: /127.0.0.1:5031") is taken
     * instead. Without a cause, Ratis's own words.
     */
    static String reason(String what, Throwable thrown) {
        List<String> causes = new ArrayList<>();
        int depth = 0;
        for (Throwable c = thrown; c != null && depth < 20; c = c.getCause(), depth++) {
            if (c.getMessage() != null) {
                causes.add(withoutClassNames(c.getMessage()));
            }
        }
        if (causes.isEmpty()) {
            for (String part : OneLineMessage.flatten(what).split("Caused by: ")) {
                causes.add(
                        withoutClassNames(part.replaceFirst("^Failed (?:appendEntries|InstallSnapshot)[^:]*: ", "")));
            }
        }
        int pick = causes.size() - 1;
        while (pick > 0 && causes.get(pick - 1).contains(causes.get(pick))) {
            pick--;
        }
        String text = causes.get(pick).replaceAll("\\s*\\(Repeated \\d+ times in the last [^)]*\\)", "");
        return text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }

    private static String withoutClassNames(String text) {
        return OneLineMessage.flatten(text)
                .replaceAll("\\b(?:[a-z_][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error): ", "")
                .strip();
    }

    /** Whether the failure is this node's own division closing (Ratis's AlreadyClosedException). */
    private static boolean closedHere(String what, Throwable thrown) {
        for (Throwable c = thrown; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getClass().getSimpleName().equals("AlreadyClosedException")
                    || String.valueOf(c.getMessage()).contains("is already CLOSED")) {
                return true;
            }
        }
        return what.contains("AlreadyClosedException") || what.contains("is already CLOSED");
    }
}
