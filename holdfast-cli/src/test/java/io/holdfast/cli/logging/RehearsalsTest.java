package io.holdfast.cli.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Rehearsals}: Ratis's lines about the rehearsal's peers go, the node's own stay. */
class RehearsalsTest {
    private final LoggerContext context = new LoggerContext();
    private final ListAppender<ILoggingEvent> written = new ListAppender<>();

    @BeforeEach
    void configure() {
        Rehearsals filter = new Rehearsals();
        filter.setContext(context);
        filter.start();
        context.addTurboFilter(filter);
        context.getLogger("org.apache.ratis").setLevel(ch.qos.logback.classic.Level.WARN);
        written.setContext(context);
        written.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(written);
    }

    private java.util.List<String> lines() {
        return written.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void dropsRatisLinesThatNameARehearsalPeerAndKeepsTheRest() {
        var appender = context.getLogger("org.apache.ratis.grpc.server.GrpcLogAppender");
        appender.warn(
                "{}: Failed to resetClient for {}",
                "holdfast-rehearsal-0@group-C0F160EA3CE4->holdfast-rehearsal-1-CommitCarrier",
                "holdfast-rehearsal-1",
                new IllegalStateException("holdfast-rehearsal-0 is already CLOSED"));
        appender.warn("{} is interrupted: {}", "n1@group-FE5A32FDA9F7->n3-CommitCarrier", "InterruptedException");
        context.getLogger("io.holdfast.server.leadership.LeaderRehearsal")
                .warn("Node n1 did not rehearse: {}", "holdfast-rehearsal-0 refused");

        assertThat(lines())
                .containsExactly(
                        "n1@group-FE5A32FDA9F7->n3-CommitCarrier is interrupted: InterruptedException",
                        "Node n1 did not rehearse: holdfast-rehearsal-0 refused");
    }

    @Test
    void dropsRatisLinesFromARehearsalPeersThreads() throws Exception {
        Thread t = new Thread(
                () -> context.getLogger("org.apache.ratis.server.impl.RaftServerImpl")
                        .warn("closing"),
                "holdfast-rehearsal-1@group-2036250DA6AF-StateMachineUpdater");
        t.start();
        t.join();
        context.getLogger("org.apache.ratis.server.impl.RaftServerImpl").warn("n2: closing");

        assertThat(lines()).containsExactly("n2: closing");
    }
}
