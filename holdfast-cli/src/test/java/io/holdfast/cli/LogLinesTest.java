package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The server's log as {@code holdfast server} configures it (the jar's {@code logback.xml}, INFO):
 * one line per event at INFO and WARN, an exception's causes on that line and its stack trace only
 * at DEBUG; and a member the leader cannot reach is one line, not Ratis's appender warning at every
 * failed send (issue 51, finding 9: "27 lines from one node in one short outage", with {@code
 * Caused by:} lines).
 */
class LogLinesTest {
    private static final String APPENDER = "org.apache.ratis.grpc.server.GrpcLogAppender";

    /** What the server's configuration writes on stderr for {@code events}. */
    private static String serverLog(Consumer<LoggerContext> events) throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        context.putProperty("holdfast.log.level", "INFO");
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(LogLinesTest.class.getResource("/logback.xml"));
            // The configured appender's encoder, writing here instead of on stderr.
            ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            var stderr = (OutputStreamAppender<ILoggingEvent>) root.getAppender("STDERR");
            OutputStreamAppender<ILoggingEvent> here = new OutputStreamAppender<>();
            here.setContext(context);
            here.setEncoder(stderr.getEncoder());
            here.setOutputStream(written);
            here.start();
            root.detachAppender(stderr);
            root.addAppender(here);
            events.accept(context);
        } finally {
            context.stop();
        }
        return written.toString(StandardCharsets.UTF_8);
    }

    private static Exception unreachable() {
        return new IllegalStateException(
                "UNAVAILABLE: io exception", new ConnectException("Connection refused: /127.0.0.1:5031"));
    }

    @Test
    void aWarningWithAnExceptionOrLineBreaksIsOneLine() throws Exception {
        String log = serverLog(c -> {
            c.getLogger("io.holdfast.server.membership.Membership").info("Could not add n4", unreachable());
            c.getLogger("org.apache.ratis.server.RaftServer").warn("first line\n  Caused by: second line");
        });
        assertThat(log.lines())
                .hasSize(2)
                .anySatisfy(l -> assertThat(l)
                        .contains(" INFO ")
                        .contains("Could not add n4 (IllegalStateException: UNAVAILABLE: io exception; caused by"
                                + " ConnectException: Connection refused: /127.0.0.1:5031)"))
                .anySatisfy(l -> assertThat(l).contains("first line Caused by: second line"));
    }

    /**
     * A message with raw bytes in it (Ratis's retry failure prints the request's payload: {@code
     * Message:\0\0\0\1…}, seen in a node's start-up line) is written without control characters,
     * so that {@code grep} does not take the server's log for a binary file.
     */
    @Test
    void controlCharactersInAMessageAreNotWritten() throws Exception {
        String log = serverLog(c -> c.getLogger("io.holdfast.server.membership.VersionReport")
                .info(
                        "Node n1 could not report its protocol version yet: {}",
                        "Failed request, Message:\u0000\u0000\u0001\u0012\u001b[31m\u007f\tend"));
        assertThat(log.lines()).hasSize(1);
        assertThat(log.chars().filter(ch -> Character.isISOControl(ch) && ch != '\n' && ch != '\t'))
                .isEmpty();
        assertThat(log).contains("Message:?????[31m?\tend");
    }

    @Test
    void theStackTraceIsPrintedAtDebug() throws Exception {
        String log = serverLog(c -> {
            c.getLogger("io.holdfast.server.membership.Membership").setLevel(Level.DEBUG);
            c.getLogger("io.holdfast.server.membership.Membership").warn("Could not add n4", unreachable());
        });
        assertThat(log.lines().count()).isGreaterThan(3);
        assertThat(log).contains("\tat ").contains("Caused by: java.net.ConnectException");
    }

    @Test
    void aMemberTheLeaderCannotReachIsOneLineNotOneAtEveryFailedSend() throws Exception {
        String log = serverLog(c -> {
            ch.qos.logback.classic.Logger ratis = c.getLogger(APPENDER);
            for (int i = 1; i <= 30; i++) {
                ratis.warn(
                        "{}: Failed appendEntries: {}",
                        "n2@group-FE5A32FDA9F7->n4-AppendLogResponseHandler",
                        unreachable());
                ratis.warn(
                        "{}: Follower failed (request=null, errorCount={}); keep nextIndex ({}) unchanged and retry.",
                        "n2@group-FE5A32FDA9F7->n4-GrpcLogAppender",
                        i,
                        5);
            }
            ratis.warn("{} is interrupted: {}", "n2@group-FE5A32FDA9F7->n3-GrpcLogAppender", "InterruptedException");
        });
        assertThat(log.lines())
                .singleElement()
                .satisfies(l -> assertThat(l)
                        .contains(" WARN ")
                        .contains("Node n2 cannot reach member n4: Connection refused: /127.0.0.1:5031"));
    }

    @Test
    void aMemberThatStopsLogsNoRatisErrorForTheAppendsThatReachItMeanwhile() throws Exception {
        // Seen in CI (README snippet, three members stopped one after another): 30 lines, an ERROR.
        String log = serverLog(c -> {
            ch.qos.logback.classic.Logger division = c.getLogger("org.apache.ratis.server.RaftServer$Division");
            division.error(
                    "{}: Failed appendEntries* {}",
                    "n3@group-FE5A32FDA9F7",
                    "n2->n3#228-t1,previous=(t:1, i:12),leaderCommit=12,initializing? false,HEARTBEAT",
                    new java.util.concurrent.CompletionException(
                            new org.apache.ratis.protocol.exceptions.ServerNotReadyException(
                                    "n3@group-FE5A32FDA9F7 is not in [STARTING, RUNNING]: current state is CLOSING")));
            c.getLogger("org.apache.ratis.grpc.server.GrpcServerProtocolService")
                    .warn(
                            "{}: Failed startLeaderElection {}: {}",
                            "n3",
                            "n2->n3#0",
                            new org.apache.ratis.protocol.exceptions.ServerNotReadyException(
                                    "n3@group-FE5A32FDA9F7 is not in [RUNNING]: current state is CLOSED"));
            // Not ready for another reason: still shown.
            division.error(
                    "{}: Failed appendEntries* {}",
                    "n3@group-FE5A32FDA9F7",
                    "n2->n3#229-t1",
                    new org.apache.ratis.protocol.exceptions.ServerNotReadyException(
                            "n3@group-FE5A32FDA9F7 is not in [STARTING, RUNNING]: current state is EXCEPTION"));
        });
        assertThat(log.lines().filter(l -> l.contains(" ERROR ") || l.contains(" WARN ")))
                .singleElement()
                .satisfies(l -> assertThat(l).contains("n2->n3#229-t1"));
    }

    @Test
    void ratisCallsBelowTheLevelFormatNothing() throws Exception {
        // Ratis logs every request at DEBUG and TRACE with its request objects as arguments; the filter above once
        // formatted each such call to look for an exception, calling their toString() on every request.
        AtomicInteger formatted = new AtomicInteger();
        Object request = new Object() {
            @Override
            public String toString() {
                formatted.incrementAndGet();
                return "n2->n3#230-t1";
            }
        };
        String log = serverLog(c -> {
            ch.qos.logback.classic.Logger server = c.getLogger("org.apache.ratis.server.impl.RaftServerImpl");
            server.debug("{}: receive client request({})", "n3", request);
            server.trace("{}: flushed {}", "n3", request);
            server.debug("{}: failed {}", request, new IllegalStateException("x"));
        });
        assertThat(formatted).hasValue(0);
        assertThat(log).isEmpty();
    }
}
