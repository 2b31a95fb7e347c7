package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** What a node's metrics say about the replies and events it served and applied. */
class ServerMetricsTest {
    private static final Command.Invocation INV = new Command.Invocation("session-0123456789abcd", 1, 0);
    private static final Command.AcquireAll BOTH =
            new Command.AcquireAll(INV, List.of("ml/a", "ml/b"), LockMode.EXCLUSIVE, 1, 0, 0);

    /**
     * Before, a multi-lock granted at once was timed under the outcome "other" and counted as no
     * grant at all, while the same multi-lock granted after a wait counted one grant per name.
     */
    @Test
    void aMultiLockGrantedAtOnceCountsUnderItsOwnNameAndAsOneGrantPerName() {
        ServerMetrics metrics = new ServerMetrics("n1");
        Reply granted = new Reply.GrantedAll(List.of(7L, 8L));
        metrics.request(BOTH, granted, 1_000_000);
        metrics.applied(List.of(Command.Envelope.of(1, BOTH)), List.of(granted), List.of(List.of()));
        metrics.applied(
                List.of(Command.Envelope.of(2, new Command.Tick())),
                List.of(Reply.Ok.INSTANCE),
                List.of(List.of(
                        new Event.Granted(INV.sessionId(), 2, "ml/a", 9),
                        new Event.Granted(INV.sessionId(), 2, "ml/b", 10))));

        String text = metrics.scrape();
        assertThat(text)
                .contains(
                        "holdfast_requests_seconds_count{command=\"acquire_all\",node=\"n1\",outcome=\"granted_all\"} 1")
                .doesNotContain("outcome=\"other\"");
        assertThat(metric(text, "holdfast_grants_total{node=\"n1\",waited=\"false\"}"))
                .as("granted at once: one grant per name")
                .isEqualTo(2);
        assertThat(metric(text, "holdfast_grants_total{node=\"n1\",waited=\"true\"}"))
                .as("granted after a wait: one event per name")
                .isEqualTo(2);
    }

    /**
     * Micrometer's function counters hold what they read weakly: a method reference that nothing
     * else keeps would be collected and the counter would read 0 from then on.
     */
    @Test
    void aCounterReadThroughAFunctionSurvivesAGarbageCollection() {
        ServerMetrics metrics = new ServerMetrics("n1");
        java.util.concurrent.atomic.AtomicLong unparsable = new java.util.concurrent.atomic.AtomicLong(5);
        metrics.unparsableRequests(unparsable::get);
        for (int i = 0; i < 5; i++) {
            System.gc();
        }
        assertThat(metric(metrics.scrape(), "holdfast_unparsable_requests_total{node=\"n1\"}"))
                .isEqualTo(5);
    }

    @Test
    void everyReplyHasAnOutcomeOfItsOwn() {
        List<Reply> replies = List.of(
                Reply.Ok.INSTANCE,
                new Reply.Granted(1),
                new Reply.GrantedAll(List.of(1L, 2L)),
                Reply.Queued.INSTANCE,
                Reply.Busy.INSTANCE,
                new Reply.Written(3),
                Reply.Failed.of(ErrorCode.DEADLOCK, "a cycle"));
        List<String> names = replies.stream().map(ServerMetrics::outcome).collect(Collectors.toList());
        assertThat(names)
                .containsExactly("ok", "granted", "granted_all", "queued", "busy", "written", "deadlock")
                .doesNotHaveDuplicates();
    }

    private static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return 0;
    }
}
