package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.model.Command;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a leader (or the in-process node) must propose for deadlines to pass, in virtual time. */
class DueCommandsTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private final SessionTracker tracker = new SessionTracker();
    private final DueCommands dues = new DueCommands(tracker);

    @Test
    void aSilentSessionIsExpiredOnceUntilTheLogTakesTheExpiry() {
        tracker.touch("s1", 3_000 * MS, 0);
        assertThat(dues.due(2_999 * MS, 50, Long.MAX_VALUE).commands()).isEmpty();

        DueCommands.Due due = dues.due(3_000 * MS, 51, Long.MAX_VALUE);
        assertThat(due.commands()).containsExactly(new Command.ExpireSession("s1"));
        assertThat(due.time())
                .as("the cluster time it fell due at, for its envelope")
                .isEqualTo(51);
        assertThat(dues.due(3_100 * MS, 52, Long.MAX_VALUE).commands())
                .as("in flight: not proposed again")
                .isEmpty();

        dues.done(due.commands().get(0), false); // the log did not take it (a step-down)
        assertThat(dues.due(3_200 * MS, 53, Long.MAX_VALUE).commands())
                .as("the tracker asks again a TTL after it first reported the session")
                .isEmpty();
        assertThat(dues.due(6_000 * MS, 53, Long.MAX_VALUE).commands())
                .containsExactly(new Command.ExpireSession("s1"));
        dues.done(new Command.ExpireSession("s1"), true);
        assertThat(dues.due(9_000 * MS, 54, Long.MAX_VALUE).commands()).isEmpty();
        assertThat(tracker.contains("s1")).isFalse();
    }

    /**
     * From the moment a session is found expired until its expiry is applied, it is expiring (a
     * leader acknowledges none of its heartbeats), also after a proposal that failed: a timed-out
     * proposal may still be in the log and be applied later. Without {@link
     * DueCommands#isExpiring} a heartbeat racing the expiry was acknowledged and the session's
     * lock had two holders (holdfast verify, keys scenario, seed 2414307957).
     */
    @Test
    void aSessionFoundExpiredStaysExpiringUntilAnExpiryIsApplied() {
        tracker.touch("s1", 3_000 * MS, 0);
        tracker.touch("s2", 9_000 * MS, 0);
        assertThat(dues.isExpiring("s1")).isFalse();
        DueCommands.Due due = dues.due(3_000 * MS, 51, Long.MAX_VALUE);
        assertThat(due.commands()).containsExactly(new Command.ExpireSession("s1"));
        assertThat(dues.isExpiring("s1")).as("proposed, outcome unknown").isTrue();
        assertThat(dues.isExpiring("s2"))
                .as("another session's heartbeats still count")
                .isFalse();

        dues.done(due.commands().get(0), false); // timed out: it may yet be applied
        assertThat(dues.isExpiring("s1"))
                .as("a failed proposal is not undone: it may be applied later")
                .isTrue();
        assertThat(dues.due(6_000 * MS, 53, Long.MAX_VALUE).commands())
                .as("proposed again")
                .containsExactly(new Command.ExpireSession("s1"));
        dues.done(new Command.ExpireSession("s1"), true);
        assertThat(dues.isExpiring("s1")).as("applied: the session is gone").isFalse();
        assertThat(tracker.contains("s1")).isFalse();

        tracker.touch("s3", 1_000 * MS, 6_000 * MS);
        assertThat(dues.due(7_000 * MS, 54, Long.MAX_VALUE).commands())
                .containsExactly(new Command.ExpireSession("s3"));
        dues.clear();
        assertThat(dues.isExpiring("s3"))
                .as("a new term of leadership starts afresh (its first entry applied the old ones)")
                .isFalse();
    }

    @Test
    void aTickWhenTheTablesDeadlineHasComeAndOneAtATime() {
        assertThat(dues.due(0, 99, 100).commands()).isEmpty();
        DueCommands.Due tick = dues.due(0, 100, 100);
        assertThat(tick.commands()).containsExactly(new Command.Tick());
        assertThat(tick.time()).isEqualTo(100);
        assertThat(dues.due(0, 101, 100).commands()).as("one tick in flight").isEmpty();
        dues.done(new Command.Tick(), true);
        assertThat(dues.due(0, 102, 100).commands()).containsExactly(new Command.Tick());
        dues.clear();
        assertThat(dues.due(0, 103, 100).commands())
                .as("a new leader starts afresh")
                .containsExactly(new Command.Tick());
    }

    @Test
    void theCallerMayWaitUntilTheNextDeadlineAndNeverLongerThanASecond() {
        assertThat(dues.due(0, 0, Long.MAX_VALUE).parkMillis()).isEqualTo(DueCommands.MAX_PARK_MILLIS);
        assertThat(dues.due(0, 0, 250).parkMillis()).isEqualTo(251);
        tracker.touch("s1", 40 * MS, 0);
        assertThat(dues.due(0, 0, 250).parkMillis()).isEqualTo(41);
        assertThat(dues.due(0, 0, 20_000).parkMillis()).isEqualTo(41);
    }
}
