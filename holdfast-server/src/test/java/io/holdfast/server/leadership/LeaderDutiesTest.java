package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.LockStateMachine;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LeaderDutiesTest {
    /**
     * Ratis calls {@code notLeader} (here {@link LeaderDuties#stop()}) while it holds its server
     * lock, and proposing a command may need that same lock on the proposing thread. The duties
     * must therefore never propose while holding their own monitor: when they did, a leader that
     * stepped down while expiring a session deadlocked (its Raft server answered no vote again, and
     * the cluster stayed without a leader; holdfast verify's zombie-leader scenario, seed 42).
     * Without the fix, {@code stop()} below never returns.
     */
    @Test
    void stepDownWhileADutyIsBeingProposedDoesNotDeadlock() throws Exception {
        Object raftLock = new Object();
        AtomicLong now = new AtomicLong(1_000_000_000L);
        CountDownLatch proposing = new CountDownLatch(1);
        List<Command.Envelope> proposed = new CopyOnWriteArrayList<>();
        LeaderDuties duties = new LeaderDuties("n1", now::get, new LockStateMachine(), command -> {
            proposing.countDown();
            synchronized (raftLock) { // as Ratis's appendTransaction does
                proposed.add(command);
                return CompletableFuture.completedFuture((Reply) Reply.Ok.INSTANCE);
            }
        });
        try {
            duties.start();
            duties.opened("session-0123456789", 1_000);

            CountDownLatch stopped = new CountDownLatch(1);
            Thread stepDown = new Thread(
                    () -> {
                        synchronized (raftLock) { // Ratis steps down under its server lock...
                            try {
                                if (!proposing.await(10, TimeUnit.SECONDS)) {
                                    return;
                                }
                                Thread.sleep(100); // ...while the duties thread waits for that lock
                            } catch (InterruptedException e) {
                                return;
                            }
                            duties.stop(); // ...and tells the state machine
                            stopped.countDown();
                        }
                    },
                    "ratis-step-down");
            stepDown.setDaemon(true);
            stepDown.start();
            Thread.sleep(50); // the step-down thread holds the Raft lock first

            now.addAndGet(TimeUnit.SECONDS.toNanos(2)); // the session's TTL passes
            duties.wake();

            assertThat(proposing.await(10, TimeUnit.SECONDS))
                    .as("the expiry is proposed")
                    .isTrue();
            assertThat(stopped.await(10, TimeUnit.SECONDS))
                    .as("stop() returns while the duties thread waits for the Raft lock")
                    .isTrue();
            stepDown.join(10_000);
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> !proposed.isEmpty());
            assertThat(proposed)
                    .singleElement()
                    .extracting(Command.Envelope::command)
                    .isInstanceOf(Command.ExpireSession.class);
            assertThat(duties.isActive()).isFalse();
        } finally {
            Thread closer = new Thread(duties::close, "close-duties"); // blocks forever if deadlocked
            closer.setDaemon(true);
            closer.start();
        }
    }

    /**
     * A heartbeat that arrives while its session's expiry is on its way through the log must not
     * be acknowledged: the expiry does not look at heartbeats, and once applied it hands the
     * session's locks on while the client counts a fresh TTL from that heartbeat. Found by holdfast
     * verify (keys scenario, seed 2414307957: two holders of one lock); before the fix, {@code
     * touch} moved the deadline and the heartbeat was acknowledged. A proposal that fails does not
     * undo the decision (it may have reached the log); the session is proposed again.
     */
    @Test
    void aHeartbeatIsNotAcknowledgedWhileItsSessionsExpiryIsInFlight() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        List<CompletableFuture<Reply>> held = new CopyOnWriteArrayList<>();
        List<Command.Envelope> proposed = new CopyOnWriteArrayList<>();
        LeaderDuties duties = new LeaderDuties("n1", now::get, new LockStateMachine(), command -> {
            proposed.add(command);
            CompletableFuture<Reply> reply = new CompletableFuture<>();
            held.add(reply);
            return reply;
        });
        try {
            duties.start();
            duties.opened("session-a-0123456789", 1_000);
            duties.opened("session-b-0123456789", 5_000);
            assertThat(duties.touch("session-a-0123456789")).isEqualTo(LeaderDuties.Touch.ACKED);

            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1_500)); // a's TTL passes, b's does not
            duties.wake();
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> held.size() == 1);
            assertThat(proposed.get(0).command()).isEqualTo(new Command.ExpireSession("session-a-0123456789"));

            assertThat(duties.touch("session-a-0123456789"))
                    .as("the expiry is in flight: the heartbeat must not be acknowledged")
                    .isEqualTo(LeaderDuties.Touch.EXPIRING);
            assertThat(duties.touch("session-b-0123456789")).isEqualTo(LeaderDuties.Touch.ACKED);

            held.get(0).completeExceptionally(new io.holdfast.UnavailableException("timed out"));
            assertThat(duties.touch("session-a-0123456789"))
                    .as("a failed proposal may still be applied: still expiring")
                    .isEqualTo(LeaderDuties.Touch.EXPIRING);

            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1_100)); // the tracker asks again a TTL later
            duties.wake();
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> held.size() == 2);
            assertThat(proposed.get(1).command()).isEqualTo(new Command.ExpireSession("session-a-0123456789"));
            held.get(1).complete(Reply.Ok.INSTANCE);
            assertThat(duties.touch("session-a-0123456789"))
                    .as("applied: the session is gone")
                    .isEqualTo(LeaderDuties.Touch.UNTRACKED);
        } finally {
            duties.close();
        }
    }

    /**
     * The leader's duties thread sleeps until the table's next deadline (at most a second) and is
     * woken by an applied entry only when that entry brings an earlier deadline. A wait that must
     * time out 50 ms from now, queued while the thread sleeps, must be timed out on time, not when
     * the thread happens to wake up: without the wake-up in {@link LeaderDuties#applied(long)} the
     * Tick below comes about a second late and the test fails.
     */
    @Test
    void anEarlierDeadlineWakesTheSleepingDutiesAndALaterOneDoesNot() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        LockStateMachine machine = new LockStateMachine();
        List<Command.Envelope> proposed = new CopyOnWriteArrayList<>();
        CountDownLatch ticked = new CountDownLatch(1);
        LeaderDuties duties = new LeaderDuties("n1", now::get, machine, command -> {
            proposed.add(command);
            if (command.command() instanceof Command.Tick) {
                ticked.countDown();
            }
            return CompletableFuture.completedFuture((Reply) Reply.Ok.INSTANCE);
        });
        try {
            duties.start();
            long t0 = duties.clusterNow();
            // Two sessions, one holding "x"; a wait of 50 ms that nothing wakes the duties for yet.
            apply(machine, t0, new Command.OpenSession("session-a-0123456789", "a", 60_000, 0));
            apply(machine, t0, new Command.OpenSession("session-b-0123456789", "b", 60_000, 0));
            apply(machine, t0, acquire("session-a-0123456789", 0));
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(duties::isSleeping);
            duties.applied(Long.MAX_VALUE); // no deadline at all: nothing to do, keeps sleeping
            assertThat(duties.isSleeping()).isTrue();

            Reply queued = apply(machine, t0, acquire("session-b-0123456789", 50));
            assertThat(queued).isInstanceOf(Reply.Queued.class);
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(60)); // the wait's deadline has passed
            long woke = System.nanoTime();
            duties.applied(machine.read(io.holdfast.core.LockTable::nextDeadline));

            assertThat(ticked.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - woke))
                    .as("the Tick follows the entry at once, not at the duties' next look (up to 1 s later)")
                    .isLessThan(500);
            assertThat(proposed).extracting(Command.Envelope::command).hasOnlyElementsOfType(Command.Tick.class);
        } finally {
            duties.close();
        }
    }

    /**
     * A new leader answers heartbeats before its duties thread has tracked every session the
     * table holds (at 100,000 sessions that took a second: docs/benchmarks.md, 2026-12-04). A
     * session whose heartbeat came first has its deadline a TTL from that heartbeat, and the
     * tracking that follows must not move it back to a TTL from the start: this leader would then
     * expire the session while its client counts on the TTL it acknowledged. Here the duties
     * thread is held in a proposal, so the heartbeat deterministically comes before the tracking;
     * without the "not tracked yet" check in the tracking, session a is left 55 s, not 60.
     */
    @Test
    void aHeartbeatBeforeANewLeaderTracksItsSessionsKeepsItsLaterDeadline() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        LockStateMachine machine = new LockStateMachine();
        CountDownLatch proposing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        LeaderDuties duties = new LeaderDuties("n1", now::get, machine, command -> {
            proposing.countDown();
            try {
                release.await(10, TimeUnit.SECONDS); // the duties thread is busy here
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return CompletableFuture.completedFuture((Reply) Reply.Ok.INSTANCE);
        });
        String a = "session-a-0123456789";
        String b = "session-b-0123456789";
        String x = "session-x-0123456789";
        try {
            apply(machine, 0, new Command.OpenSession(a, "a", 60_000, 0));
            apply(machine, 0, new Command.OpenSession(b, "b", 60_000, 0));
            apply(machine, 0, new Command.OpenSession(x, "x", 1_000, 0));
            duties.start();
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> duties.ttlLeftMillis(List.of(a, b, x)).size() == 3);

            now.addAndGet(TimeUnit.SECONDS.toNanos(2)); // x's TTL passes: its expiry holds the thread
            duties.wake();
            assertThat(proposing.await(10, TimeUnit.SECONDS)).isTrue();

            duties.stop();
            duties.start(); // leads again: every session to be given a fresh TTL from here
            assertThat(duties.ttlLeftMillis(List.of(a, b)))
                    .as("nothing tracked yet")
                    .isEmpty();
            now.addAndGet(TimeUnit.SECONDS.toNanos(5));
            assertThat(duties.touchAll(List.of(a, "session-z-0123456789")))
                    .as("a session the table holds is answered before it is tracked; one it does not, not")
                    .containsExactly(LeaderDuties.Touch.ACKED, LeaderDuties.Touch.UNTRACKED);
            assertThat(duties.ttlLeftMillis(List.of(a, b))).containsOnly(java.util.Map.entry(a, 60_000L));

            release.countDown();
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> duties.ttlLeftMillis(List.of(b)).size() == 1);
            assertThat(duties.ttlLeftMillis(List.of(a, b)))
                    .as("b gets a TTL from the start; a keeps the later one its heartbeat gave it")
                    .containsOnly(java.util.Map.entry(a, 60_000L), java.util.Map.entry(b, 55_000L));
        } finally {
            release.countDown();
            duties.close();
        }
    }

    /**
     * A new leader tracks its sessions in chunks, taking the duties' monitor and the state
     * machine's lock for each, and heartbeats need both: on a loaded machine the tracking thread
     * took them again chunk after chunk before a waiting heartbeat round was scheduled, and a new
     * leader at 100,000 sessions answered its held heartbeats only as the tracking ended
     * (docs/benchmarks.md, 2026-12-04). So the tracking takes no chunk while heartbeats are being
     * answered. The ticker never moves here, so the give-way's bound never ends it: without the
     * give-way, every session is tracked while the round is still open.
     */
    @Test
    void aNewLeadersTrackingTakesNoChunkWhileHeartbeatsAreAnswered() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        LockStateMachine machine = new LockStateMachine();
        LeaderDuties duties = new LeaderDuties(
                "n1", now::get, machine, command -> CompletableFuture.completedFuture((Reply) Reply.Ok.INSTANCE));
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 3 * FreshTtls.CHUNK; i++) {
            ids.add("session-" + i + "-0123456789");
            apply(machine, 0, new Command.OpenSession(ids.get(i), "c", 60_000, 0));
        }
        CountDownLatch inRound = new CountDownLatch(1);
        CountDownLatch endRound = new CountDownLatch(1);
        Thread round = new Thread(() -> duties.answering(() -> {
            inRound.countDown();
            try {
                return endRound.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }));
        try {
            round.start();
            assertThat(inRound.await(10, TimeUnit.SECONDS)).isTrue();
            duties.start();
            org.awaitility.Awaitility.await("no session tracked while a round is answered")
                    .during(java.time.Duration.ofMillis(300))
                    .atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> duties.ttlLeftMillis(ids).isEmpty());

            endRound.countDown();
            org.awaitility.Awaitility.await("every session tracked once the round is answered")
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> duties.ttlLeftMillis(ids).size() == ids.size());
            assertThat(duties.ttlLeftMillis(ids).values()).containsOnly(60_000L);
        } finally {
            endRound.countDown();
            round.join();
            duties.close();
        }
    }

    private static Reply apply(LockStateMachine machine, long time, Command command) {
        return machine.read(table -> table.apply(time, command, event -> {}));
    }

    private static Command.Acquire acquire(String session, long waitMillis) {
        return new Command.Acquire(
                new Command.Invocation(session, 1, 1), "x", io.holdfast.LockMode.EXCLUSIVE, 1, 1, 1, waitMillis, 0);
    }

    /**
     * The one reading of an applied entry for the node's hooks and the leader rehearsal's: a
     * session opened is tracked, one refused is not, one closed or expired is no longer. Without
     * it, every relayed heartbeat of the rehearsal's sessions was answered UNTRACKED.
     */
    @Test
    void anAppliedEntryTracksTheSessionsItOpensAndForgetsTheOnesItEnds() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        LeaderDuties duties = new LeaderDuties(
                "n1",
                now::get,
                new LockStateMachine(),
                c -> CompletableFuture.completedFuture((Reply) Reply.Ok.INSTANCE));
        try {
            duties.start();
            duties.applied(entry(
                    List.of(
                            new Command.OpenSession("s-open", "t", 10_000, 0),
                            new Command.OpenSession("s-refused", "t", 10_000, 0),
                            new Command.OpenSession("s-closed", "t", 10_000, 0),
                            new Command.OpenSession("s-expired", "t", 10_000, 0)),
                    List.of(
                            Reply.Ok.INSTANCE,
                            new Reply.Failed(io.holdfast.ErrorCode.QUOTA_EXCEEDED, "quota", List.of(), 0),
                            Reply.Ok.INSTANCE,
                            Reply.Ok.INSTANCE),
                    List.of(List.of(), List.of(), List.of(), List.of())));
            assertThat(duties.touch("s-open")).isEqualTo(LeaderDuties.Touch.ACKED);
            assertThat(duties.touch("s-refused")).isEqualTo(LeaderDuties.Touch.UNTRACKED);
            assertThat(duties.touch("s-closed")).isEqualTo(LeaderDuties.Touch.ACKED);

            duties.applied(entry(
                    List.of(
                            new Command.CloseSession(new Command.Invocation("s-closed", 1, 1)),
                            new Command.ExpireSession("s-expired")),
                    List.of(Reply.Ok.INSTANCE, Reply.Ok.INSTANCE),
                    List.of(List.of(), List.of(new io.holdfast.model.Event.SessionExpired("s-expired")))));
            assertThat(duties.touch("s-open")).isEqualTo(LeaderDuties.Touch.ACKED);
            assertThat(duties.touch("s-closed")).isEqualTo(LeaderDuties.Touch.UNTRACKED);
            assertThat(duties.touch("s-expired")).isEqualTo(LeaderDuties.Touch.UNTRACKED);
        } finally {
            duties.close();
        }
    }

    private static io.holdfast.server.raft.StateMachineHooks.Applied entry(
            List<Command> commands, List<Reply> replies, List<List<io.holdfast.model.Event>> events) {
        return new io.holdfast.server.raft.StateMachineHooks.Applied(
                7,
                commands.stream().map(c -> Command.Envelope.of(1, c)).toList(),
                replies,
                events,
                List.of(),
                1,
                Long.MAX_VALUE);
    }
}
