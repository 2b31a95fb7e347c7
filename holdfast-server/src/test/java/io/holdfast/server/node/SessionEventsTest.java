package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.SessionExpiredException;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Event;
import io.holdfast.server.node.SessionEvents.Page;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The event buffers that HTTP clients read their streams from: positions, resuming, and the gaps
 * that must never be hidden.
 */
class SessionEventsTest {
    private final SessionEvents events = new SessionEvents(Runnable::run);

    private static Event lost(String session, String name, long token) {
        return new Event.Lost(session, name, token, Event.Reason.REVOKED);
    }

    private void append(long index, Event... caused) {
        events.append(index, List.of(List.of(caused)), List.of());
    }

    @Test
    void aSessionReadsItsEventsFromItsBeginningAndResumesFromAnyPosition() {
        events.opened("s1");
        append(5, lost("s1", "a", 3), lost("s2", "b", 4), lost("s1", "c", 5));
        append(7, new Event.SessionExpired("s1"));

        Page all = events.read("s1", null);
        assertThat(all.gap()).isFalse();
        assertThat(all.items()).extracting(i -> i.at().toString()).containsExactly("5.0", "5.2", "7.0");
        assertThat(all.next()).isEqualTo(new ChangePosition(7, 1));

        Page rest = events.read("s1", all.items().get(0).next());
        assertThat(rest.items()).extracting(i -> i.at().toString()).containsExactly("5.2", "7.0");
        Page none = events.read("s1", all.next());
        assertThat(none.items()).isEmpty();
        assertThat(none.gap()).isFalse();
        assertThat(none.next()).as("past the last entry appended").isEqualTo(new ChangePosition(8, 0));
    }

    @Test
    void aReplicaThatLoadedASnapshotCannotReplayWhatCameBefore() {
        events.opened("s1");
        append(3, lost("s1", "a", 1));
        events.loaded(10);
        assertThat(events.read("s1", new ChangePosition(3, 1)).gap())
                .as("entries 4 to 10 were never applied here")
                .isTrue();
        assertThat(events.read("s1", null).gap()).isTrue();
        assertThat(events.read("s1", new ChangePosition(11, 0)).gap()).isFalse();
        append(12, lost("s1", "b", 2));
        assertThat(events.read("s1", new ChangePosition(11, 0)).items()).hasSize(1);
        assertThat(events.read("s1", new ChangePosition(9, 0)).gap()).isTrue();
    }

    @Test
    void aBusySessionKeepsItsNewestEventsAndSaysGapForOlderChangePositions() {
        events.opened("s1");
        for (int i = 1; i <= SessionEvents.PER_SESSION + 10; i++) {
            append(i, lost("s1", "n" + i, i));
        }
        assertThat(events.read("s1", null).gap()).isTrue();
        assertThat(events.read("s1", new ChangePosition(10, 0)).gap()).isTrue();
        assertThat(events.read("s1", new ChangePosition(10, 1)).gap()).isFalse();
        Page newest = events.read("s1", new ChangePosition(11, 0));
        assertThat(newest.gap()).isFalse();
        assertThat(newest.items()).hasSize(SessionEvents.PER_SESSION);
    }

    @Test
    void waitingAcquiresAreAnsweredByTheirOwnEventsOnlyAndFailWhenTheSessionEnds() {
        CompletableFuture<List<Event>> mine = events.outcome("s1", 7);
        CompletableFuture<List<Event>> other = events.outcome("s1", 8);
        CompletableFuture<List<Event>> ended = events.outcome("s2", 1);
        CompletableFuture<List<Event>> expired = events.outcome("s3", 1);
        append(3, lost("s3", "a", 9));
        assertThat(expired).as("a loss decides no wait").isNotDone();
        append(4, new Event.Granted("s1", 6, "a", 10), new Event.Granted("s1", 7, "a", 11));
        assertThat(mine).isCompletedWithValue(List.of(new Event.Granted("s1", 7, "a", 11)));
        assertThat(other).isNotDone();
        append(5, new Event.WaitTimedOut("s1", 8, "b"));
        assertThat(other).isCompletedWithValue(List.of(new Event.WaitTimedOut("s1", 8, "b")));
        events.append(6, List.of(), List.of("s2"));
        assertThat(ended).isCompletedExceptionally();
        assertThat(ended.handle((v, e) -> e)).isCompletedWithValueMatching(e -> e instanceof SessionExpiredException);
        append(7, new Event.SessionExpired("s3"));
        assertThat(expired.handle((v, e) -> e))
                .isCompletedWithValueMatching(e ->
                        e instanceof SessionExpiredException && e.getMessage().contains("expired"));
    }

    @Test
    void aMultiLockIsAnsweredWithEveryGrantOfItsEntry() {
        CompletableFuture<List<Event>> all = events.outcome("s1", 3);
        append(9, new Event.Granted("s1", 3, "a", 20), new Event.Granted("s1", 3, "b", 21));
        assertThat(all.join()).hasSize(2);
    }

    @Test
    void aStepDownFailsEveryWaitingAcquireAndALongPollWakesOnItsSessionsEvent() {
        CompletableFuture<List<Event>> waiting = events.outcome("s1", 1);
        events.failOutcomes(() -> new IllegalStateException("not the leader"));
        assertThat(waiting).isCompletedExceptionally();

        events.opened("s1");
        CompletableFuture<Void> poll = events.nextEvent("s1", null);
        assertThat(poll).isNotDone();
        append(2, lost("s2", "x", 1));
        assertThat(poll).as("another session's event").isNotDone();
        append(3, lost("s1", "x", 2));
        assertThat(poll).isDone();
    }

    /**
     * Every replica keeps a buffer for each session it applied the opening of (up to {@value
     * SessionEvents#MAX_SESSIONS} of them), and most sessions of a fleet have no events: such a
     * buffer must cost its map entry and its log's object, not a ring. Measured as the bytes this
     * thread allocates to open them (each 8-slot ring took 224 bytes more: 338 per session in all).
     */
    @Test
    void aSessionWithoutEventsCostsNoRing() {
        int n = 20_000;
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add("session-" + i);
            events.expectOpen("session-" + i); // opened by this member's HTTP clients
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(thread);
        for (String id : ids) {
            events.opened(id);
        }
        double perSession = (threads.getThreadAllocatedBytes(thread) - before) / (double) n;
        assertThat(perSession).as("bytes allocated per session opened").isLessThan(160);
        assertThat(events.sessionsKept()).isEqualTo(n);
        assertThat(events.read("session-7", null).gap()).isFalse();
    }

    /**
     * Every replica applies every session's opening, and most sessions are read from nowhere (a
     * gRPC client reads no stream here) or at the one member whose HTTP client opened them: a
     * session opened for another member keeps nothing here until it has an event (a buffer and its
     * map entry and id cost 170 bytes per session on every replica). A replica that has applied
     * every entry still answers its read from the beginning, without a gap.
     */
    @Test
    void aSessionOpenedForAnotherMemberKeepsNothingHere() {
        for (int i = 0; i < 20_000; i++) {
            events.opened("session-" + i);
        }
        assertThat(events.sessionsKept()).isZero();
        assertThat(events.read("session-7", null).gap())
                .as("every entry was applied here, and none had an event of it")
                .isFalse();
        append(3, lost("session-7", "a", 1));
        assertThat(events.read("session-7", null).items()).hasSize(1);
        assertThat(events.sessionsKept()).isEqualTo(1);
    }

    /**
     * After a snapshot, a session whose opening this member expected (its HTTP client opened it
     * here) reads from its beginning; one opened for another member has no buffer here, and its
     * read from the beginning is a gap, never silence: its reader is given the session's state.
     */
    @Test
    void afterASnapshotOnlyAnExpectedOpeningReadsFromItsBeginning() {
        events.loaded(10);
        events.expectOpen("mine");
        events.opened("mine");
        events.opened("theirs");
        assertThat(events.read("mine", null).gap()).isFalse();
        assertThat(events.read("theirs", null).gap()).isTrue();
        assertThat(events.read("theirs", new ChangePosition(11, 0)).gap())
                .as("from a position this replica covers")
                .isFalse();
        events.expectOpen("failed");
        events.forgetOpen("failed");
        events.opened("failed");
        assertThat(events.read("failed", null).gap()).isTrue();
    }

    @Test
    void droppedSessionsAreGapsNeverSilence() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i <= SessionEvents.MAX_SESSIONS; i++) {
            ids.add("s" + i);
        }
        long index = 1;
        for (String id : ids) {
            append(index++, lost(id, "a", index));
        }
        assertThat(events.sessionsKept()).isEqualTo(SessionEvents.MAX_SESSIONS);
        assertThat(events.read("s0", new ChangePosition(1, 0)).gap())
                .as("its buffer was dropped")
                .isTrue();
        assertThat(events.read("s0", new ChangePosition(index, 0)).gap()).isFalse();
    }
}
