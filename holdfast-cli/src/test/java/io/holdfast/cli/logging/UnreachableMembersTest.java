package io.holdfast.cli.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link UnreachableMembers} on a fake clock: a line at the start, then one a minute with a count. */
class UnreachableMembersTest {
    private final LoggerContext context = new LoggerContext();
    private final ListAppender<ILoggingEvent> written = new ListAppender<>();
    private long now;

    @BeforeEach
    void configure() {
        UnreachableMembers filter = new UnreachableMembers();
        filter.setContext(context);
        filter.clock(() -> now);
        filter.start();
        context.addTurboFilter(filter);
        written.setContext(context);
        written.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(written);
    }

    private void failedSend(String from, String to, int seconds) {
        now = Duration.ofSeconds(seconds).toNanos();
        context.getLogger(UnreachableMembers.APPENDER)
                .warn(
                        "{}: Failed appendEntries: {}",
                        from + "@group-FE5A32FDA9F7->" + to + "-AppendLogResponseHandler",
                        new IllegalStateException(
                                "UNAVAILABLE: io exception",
                                new ConnectException("Connection refused: /10.0.0.4:4654")));
    }

    private java.util.List<String> lines() {
        return written.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aLastingOutageIsOneLineThenOneAMinuteWithACount() {
        for (int s = 0; s < 60; s++) {
            failedSend("n2", "n4", s);
            failedSend("n2", "n4", s);
        }
        assertThat(lines())
                .containsExactly(
                        "Node n2 cannot reach member n4: Connection refused: /10.0.0.4:4654 (said again once a minute"
                                + " while it lasts)");
        failedSend("n2", "n4", 60);
        failedSend("n2", "n4", 61);
        assertThat(lines())
                .hasSize(2)
                .last()
                .isEqualTo("Node n2 still cannot reach member n4: 120 failed sends in the last 60s (last: Connection"
                        + " refused: /10.0.0.4:4654)");
        assertThat(written.list).allSatisfy(e -> assertThat(e.getLoggerName()).isEqualTo(UnreachableMembers.LOGGER));
    }

    @Test
    void eachMemberIsCountedApartAndAQuietMinuteStartsAnew() {
        failedSend("n2", "n4", 0);
        failedSend("n2", "n5", 1);
        failedSend("n2", "n4", 2);
        failedSend("n2", "n4", 200); // a minute and more without a failure: a new outage
        assertThat(lines())
                .hasSize(3)
                .allSatisfy(l -> assertThat(l).contains(" cannot reach member "))
                .noneMatch(l -> l.contains("still"));
    }

    @Test
    void ratisOwnThrottleCountsAsManyFailuresAsItSays() {
        failedSend("n2", "n4", 0);
        now = Duration.ofSeconds(5).toNanos();
        context.getLogger(UnreachableMembers.APPENDER)
                .warn(
                        "{}: Follower failed (request=null, errorCount=34); keep nextIndex (5) unchanged and retry."
                                + " (Repeated 32 times in the last 5.000s)",
                        "n2@group-FE5A32FDA9F7->n4-GrpcLogAppender");
        failedSend("n2", "n4", 61);
        assertThat(lines()).last().asString().startsWith("Node n2 still cannot reach member n4: 33 failed sends");
        // Ratis's words without a cause do not hide the last cause seen.
        for (int s : new int[] {90, 121}) {
            now = Duration.ofSeconds(s).toNanos();
            context.getLogger(UnreachableMembers.APPENDER)
                    .warn(
                            "{}: Follower failed (request=null, errorCount=99); keep nextIndex (5) unchanged and"
                                    + " retry. (Repeated 7 times in the last 5.000s)",
                            "n2@group-FE5A32FDA9F7->n4-GrpcLogAppender");
        }
        assertThat(lines())
                .last()
                .isEqualTo("Node n2 still cannot reach member n4: 14 failed sends in the last 60s (last: Connection"
                        + " refused: /10.0.0.4:4654)");
    }

    @Test
    void theReasonIsTheCauseThatNamesTheAddressWithoutClassNames() {
        String ratisText = "Failed appendEntries: org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException:"
                + " UNAVAILABLE: io exception\n  Caused by: org.apache.ratis.thirdparty.io.netty.channel"
                + ".AbstractChannel$AnnotatedConnectException: finishConnect(..) failed with error(-111): Connection"
                + " refused: /127.0.0.1:5031\n  Caused by: java.net.ConnectException: finishConnect(..) failed with"
                + " error(-111): Connection refused";
        assertThat(UnreachableMembers.reason(ratisText, null))
                .isEqualTo("finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:5031");
        assertThat(UnreachableMembers.reason("Follower failed (request=null, errorCount=3); retry.", null))
                .isEqualTo("Follower failed (request=null, errorCount=3); retry.");
    }

    /**
     * A new member that does not answer (a learner added before it was started): the leader sends it
     * a snapshot and Ratis warns at every failed try, a few times a second; one line here.
     */
    @Test
    void failedSnapshotSendsToANewMemberAreOneLine() {
        for (int i = 0; i < 30; i++) {
            context.getLogger(UnreachableMembers.APPENDER)
                    .warn("n5@group-FE5A32FDA9F7->n6-InstallSnapshot: Failed InstallSnapshot:"
                            + " org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException: UNAVAILABLE: io exception"
                            + " Caused by: org.apache.ratis.thirdparty.io.netty.channel.AbstractChannel"
                            + "$AnnotatedConnectException: finishConnect(..) failed with error(-111): Connection"
                            + " refused: /127.0.0.1:9654 Caused by: java.net.ConnectException: finishConnect(..)"
                            + " failed with error(-111): Connection refused");
        }
        assertThat(lines())
                .containsExactly("Node n5 cannot reach member n6: finishConnect(..) failed with error(-111): Connection"
                        + " refused: /127.0.0.1:9654 (said again once a minute while it lasts)");
    }

    @Test
    void theNodesOwnAppenderIsSummarizedAsRatisOwnIs() {
        context.getLogger(UnreachableMembers.APPENDER)
                .warn(
                        "{}: Follower failed (request=null, errorCount=1); keep nextIndex (7) unchanged and retry.",
                        "n1@group-FE5A32FDA9F7->n2-CommitCarrier");
        context.getLogger(UnreachableMembers.APPENDER)
                .warn("{} is interrupted: {}", "n1@group-FE5A32FDA9F7->n2-CommitCarrier", "InterruptedException");
        assertThat(lines()).singleElement().asString().startsWith("Node n1 cannot reach member n2: ");
    }

    @Test
    void aNodeWhoseOwnDivisionClosesSaysNothing() {
        context.getLogger(UnreachableMembers.APPENDER)
                .warn(
                        "{}: Failed to resetClient for n2",
                        "n1@group-FE5A32FDA9F7->n2-GrpcLogAppender",
                        new IllegalStateException("n1 is already CLOSED"));
        assertThat(written.list).isEmpty();
    }

    @Test
    void otherWarningsPassAndOtherLoggersAreLeftAlone() {
        context.getLogger(UnreachableMembers.APPENDER)
                .warn(
                        "{}: received INCONSISTENCY reply with nextIndex 0",
                        "n2@group-FE5A32FDA9F7->n4-AppendLogResponseHandler");
        context.getLogger("io.holdfast.server.membership.Membership")
                .warn("n2@group-FE5A32FDA9F7->n4-GrpcLogAppender: x");
        assertThat(written.list).hasSize(2);
    }
}
