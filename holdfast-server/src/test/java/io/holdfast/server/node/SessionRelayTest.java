package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.UnavailableException;
import io.holdfast.model.NotLeaderException;
import io.holdfast.server.raft.TableQuery.TouchSessions.Answer;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A member's relay of heartbeats (ADR 0003), on a fake clock, with the leader played by a function
 * that answers as told: the rules that keep a member from vouching for a TTL on its own.
 */
class SessionRelayTest {
    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);
    /** The rounds the leader was sent, in order. */
    private final List<List<String>> rounds = new ArrayList<>();
    /** What the leader does with the next round; answers every session ACKED when empty. */
    private final Queue<Function<List<String>, Optional<Answer>>> leader = new ArrayDeque<>();
    /** Rounds handed to the sender, run when the test says (the sender blocks in real life). */
    private final Queue<Runnable> sends = new ArrayDeque<>();

    /** Whether the member hears from a leader (its Raft follows one that reached it lately). */
    private boolean hearsLeader;

    private final SessionRelay relay = relay(
            ticker,
            scheduler,
            sends,
            ids -> {
                rounds.add(List.copyOf(ids));
                Function<List<String>, Optional<Answer>> next = leader.poll();
                return next != null
                        ? next.apply(ids)
                        : Optional.of(
                                Answer.of(ids.stream().map(i -> Verdict.ACKED).toList()));
            },
            () -> hearsLeader);

    /**
     * Member n2's relay (n1 leads) on {@code ticker} and {@code scheduler}, every 100 ms, cut off
     * after 4 s, its rounds handed to {@code sends} and answered by {@code round}: the fixture of
     * this test and of {@link RelayRoundTest}.
     */
    static SessionRelay relay(
            FakeTicker ticker,
            ManualScheduler scheduler,
            Queue<Runnable> sends,
            Function<List<String>, Optional<Answer>> round) {
        return relay(ticker, scheduler, sends, round, () -> false);
    }

    /** {@link #relay(FakeTicker, ManualScheduler, Queue, Function)}, hearing from a leader when {@code hearsLeader} says. */
    static SessionRelay relay(
            FakeTicker ticker,
            ManualScheduler scheduler,
            Queue<Runnable> sends,
            Function<List<String>, Optional<Answer>> round,
            BooleanSupplier hearsLeader) {
        return new SessionRelay(
                "n2",
                ticker,
                scheduler,
                sends::add,
                round,
                () -> new NotLeaderException("n2 does not lead; the leader is n1", "n1"),
                100,
                4000,
                hearsLeader);
    }

    /** One interval of the relay's timer, then every round it handed to the sender. */
    static void interval(ManualScheduler scheduler, Queue<Runnable> sends) {
        scheduler.advance(Duration.ofMillis(100));
        Runnable send;
        while ((send = sends.poll()) != null) {
            send.run();
        }
    }

    private void interval() {
        interval(scheduler, sends);
    }

    @Test
    void theHeartbeatsOfAnIntervalGoAsOneRoundAndEachGetsItsVerdict() {
        leader.add(ids -> Optional.of(Answer.of(List.of(Verdict.ACKED, Verdict.GONE, Verdict.EXPIRING))));
        CompletableFuture<Verdict> a = relay.heartbeat("a", 2000, 2000);
        CompletableFuture<Verdict> b = relay.heartbeat("b", 2000, 2000);
        CompletableFuture<Verdict> a2 = relay.heartbeat("a", 2000, 2000);
        CompletableFuture<Verdict> c = relay.heartbeat("c", 2000, 2000);
        assertThat(a).as("answered only by a leader's round").isNotDone();
        interval();
        assertThat(rounds).containsExactly(List.of("a", "b", "c"));
        assertThat(a).isCompletedWithValue(Verdict.ACKED);
        assertThat(a2).isCompletedWithValue(Verdict.ACKED);
        assertThat(b).isCompletedWithValue(Verdict.GONE);
        assertThat(c).isCompletedWithValue(Verdict.EXPIRING);
        interval();
        assertThat(rounds).as("no round without heartbeats").hasSize(1);
    }

    @Test
    void aRoundThatNoLeaderAnswersLeavesItsHeartbeatsWaitingUntilTheirHoldEnds() {
        leader.add(ids -> {
            throw new UnavailableException("no leader answered: connection refused");
        });
        leader.add(ids -> Optional.of(Answer.refused("node n1 does not hold its lease")));
        CompletableFuture<Verdict> held = relay.heartbeat("a", 500, 500);
        interval();
        interval();
        assertThat(held).as("never acknowledged by the member itself").isNotDone();
        assertThat(rounds).containsExactly(List.of("a"), List.of("a"));
        leader.add(ids -> {
            throw new UnavailableException("no leader answered: connection refused");
        });
        leader.add(ids -> {
            throw new UnavailableException("no leader answered: connection refused");
        });
        for (int i = 0; i < 3; i++) {
            interval();
        }
        assertThat(held).isCompletedExceptionally();
        assertThat(failure(held))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("member n2 had no verdict from a leader within the heartbeat's hold")
                .hasMessageContaining("it waited for the next round")
                .hasMessageContaining("the last round without verdicts: no leader answered: connection refused")
                .hasMessageContaining("send the heartbeat to another member");
    }

    @Test
    void aHeartbeatWhoseRoundIsStillOutWhenItsHoldEndsSaysHowLongTheRoundHasBeenOut() {
        CompletableFuture<Verdict> held = relay.heartbeat("a", 500, 500);
        scheduler.advance(Duration.ofMillis(100)); // the round leaves: handed to the sender, unanswered
        assertThat(sends).hasSize(1);
        scheduler.advance(Duration.ofMillis(400)); // the hold ends 500 ms after the heartbeat
        assertThat(held).isCompletedExceptionally();
        assertThat(failure(held))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("member n2 had no verdict from a leader within the heartbeat's hold")
                .hasMessageContaining("its round has been out for 400 ms")
                .hasMessageNotContaining("the last round without verdicts");
    }

    @Test
    void aHeartbeatHeldThroughAnElectionIsAnsweredByTheNewLeader() {
        leader.add(ids -> {
            throw new UnavailableException("no leader answered: n1 is down");
        });
        CompletableFuture<Verdict> held = relay.heartbeat("a", 2000, 2000);
        CompletableFuture<Verdict> later = relay.heartbeat("b", 2000, 2000);
        interval();
        assertThat(held).isNotDone();
        interval(); // the new leader answers both, in one round
        assertThat(rounds).containsExactly(List.of("a", "b"), List.of("a", "b"));
        assertThat(held).isCompletedWithValue(Verdict.ACKED);
        assertThat(later).isCompletedWithValue(Verdict.ACKED);
    }

    /**
     * A leader killed at 100,000 sessions: the survivors followed the new leader 1.5 s later, and
     * their relays had its verdicts 3.5 s after the kill, after their clients' heartbeats had
     * failed at their 2 s hold and the clients had moved to another member, which waited for the
     * same leader. While the member hears from a leader, a heartbeat waits on to its longest hold.
     */
    @Test
    void aHeartbeatPastItsHoldWaitsOnWhileTheMemberHearsFromALeaderAndFailsAtItsLongestHold() {
        for (int i = 0; i < 40; i++) {
            leader.add(ids -> Optional.of(Answer.refused("n1 is in LEADER state but not ready yet")));
        }
        hearsLeader = true;
        CompletableFuture<Verdict> answered = relay.heartbeat("a", 2000, 3300);
        CompletableFuture<Verdict> refused = relay.heartbeat("b", 2000, 3300);
        for (int i = 0; i < 25; i++) { // 2.5 s: past the hold, not past the longest hold
            interval();
        }
        assertThat(answered).as("held on: the member hears from a leader").isNotDone();
        assertThat(refused).isNotDone();
        leader.clear(); // the new leader is ready: it answers a
        leader.add(ids -> Optional.of(Answer.of(ids.stream()
                .map(i -> i.equals("a") ? Verdict.ACKED : Verdict.EXPIRING)
                .toList())));
        interval();
        assertThat(answered).isCompletedWithValue(Verdict.ACKED);
        assertThat(refused).as("a verdict other than ACKED is the leader's too").isCompletedWithValue(Verdict.EXPIRING);

        for (int i = 0; i < 40; i++) {
            leader.add(ids -> Optional.of(Answer.refused("n1 is in LEADER state but not ready yet")));
        }
        CompletableFuture<Verdict> never = relay.heartbeat("c", 2000, 3300);
        for (int i = 0; i < 32; i++) {
            interval();
        }
        assertThat(never).as("3.2 s: within its longest hold").isNotDone();
        for (int i = 0; i < 2; i++) {
            interval();
        }
        assertThat(failure(never))
                .as("never acknowledged by the member itself, however long it hears from a leader")
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("within the heartbeat's hold");
    }

    @Test
    void aMemberThatHearsFromNoLeaderFailsAHeartbeatAtItsHoldWhateverItsLongestHold() {
        for (int i = 0; i < 40; i++) {
            leader.add(ids -> {
                throw new UnavailableException("no leader answered: n1 and n3 do not answer");
            });
        }
        hearsLeader = false;
        CompletableFuture<Verdict> held = relay.heartbeat("a", 2000, 3300);
        for (int i = 0; i < 19; i++) {
            interval();
        }
        assertThat(held).isNotDone();
        interval();
        interval();
        assertThat(failure(held)).isInstanceOf(UnavailableException.class);
    }

    /**
     * A backlog (a new leader's first seconds at 100,000 sessions made a round of 48,403) leaves in
     * rounds of at most {@value SessionRelay#MAX_ROUND_SESSIONS} sessions, each as soon as the one
     * before is answered.
     */
    @Test
    void aBacklogLeavesInBoundedRoundsOneRightAfterTheOther() {
        int n = SessionRelay.MAX_ROUND_SESSIONS + 1808;
        List<CompletableFuture<Verdict>> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            held.add(relay.heartbeat("s" + i, 2000, 2000));
        }
        scheduler.advance(Duration.ofMillis(100));
        assertThat(sends).hasSize(1);
        sends.poll().run();
        assertThat(rounds).hasSize(1);
        assertThat(rounds.get(0)).hasSize(SessionRelay.MAX_ROUND_SESSIONS).startsWith("s0", "s1");
        assertThat(held.get(0)).isCompletedWithValue(Verdict.ACKED);
        assertThat(held.get(n - 1)).as("in the next round").isNotDone();
        assertThat(sends)
                .as("the next round left when the first was answered, before the interval")
                .hasSize(1);
        sends.poll().run();
        assertThat(rounds.get(1)).hasSize(1808).startsWith("s" + SessionRelay.MAX_ROUND_SESSIONS);
        assertThat(held).allSatisfy(h -> assertThat(h).isCompletedWithValue(Verdict.ACKED));
        interval();
        assertThat(rounds).as("nothing waits: no round").hasSize(2);
    }

    @Test
    void oneRoundAtATimeAndAHeartbeatPastItsHoldIsFailedEvenInFlight() {
        CompletableFuture<Verdict> first = relay.heartbeat("a", 250, 250);
        scheduler.advance(Duration.ofMillis(100)); // the round is handed to the sender, which is slow
        CompletableFuture<Verdict> second = relay.heartbeat("b", 2000, 2000);
        scheduler.advance(Duration.ofMillis(100));
        assertThat(sends).as("no second round while one is in flight").hasSize(1);
        scheduler.advance(Duration.ofMillis(100));
        assertThat(first).as("its hold ended while the round was in flight").isCompletedExceptionally();
        sends.poll().run(); // the late answer changes nothing for it
        assertThat(failure(first)).isInstanceOf(UnavailableException.class);
        interval();
        assertThat(rounds).containsExactly(List.of("a"), List.of("b"));
        assertThat(second).isCompletedWithValue(Verdict.ACKED);
    }

    @Test
    void aMemberCutOffForLongerThanTheCutOffFailsHeartbeatsAtOnce() {
        for (int i = 0; i < 50; i++) {
            leader.add(ids -> {
                throw new UnavailableException("no leader answered: n1 and n3 do not answer");
            });
        }
        relay.heartbeat("a", 2000, 2000);
        for (int i = 0; i < 42; i++) { // rounds fail from 0.1 s (the first left) to 1.9 s; 4.2 s is past the cut-off
            interval();
        }
        CompletableFuture<Verdict> now = relay.heartbeat("b", 2000, 2000);
        assertThat(now).isCompletedExceptionally();
        assertThat(failure(now))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("n1 and n3 do not answer");
    }

    @Test
    void anIdleMemberIsNotCutOffByItsFirstRoundWithoutVerdicts() {
        scheduler.advance(Duration.ofSeconds(10)); // no client: no round leaves, no leader answers
        leader.add(ids -> {
            throw new UnavailableException("no leader answered: n1 is electing");
        });
        CompletableFuture<Verdict> a = relay.heartbeat("a", 2000, 2000);
        interval();
        assertThat(rounds).containsExactly(List.of("a"));
        CompletableFuture<Verdict> b = relay.heartbeat("b", 2000, 2000);
        assertThat(b)
                .as("held for the next round: one round failed 100 ms ago, not 10 s")
                .isNotDone();
        interval();
        assertThat(a).isCompletedWithValue(Verdict.ACKED);
        assertThat(b).isCompletedWithValue(Verdict.ACKED);
    }

    @Test
    void aMemberCutOffAsksWithRoundsOfNoHeartbeatsAndRelaysAgainOnceALeaderAnswers() {
        for (int i = 0; i < 60; i++) {
            leader.add(ids -> {
                throw new UnavailableException("no leader answered: n1 and n3 do not answer");
            });
        }
        relay.heartbeat("a", 2000, 2000);
        for (int i = 0; i < 42; i++) {
            interval();
        }
        assertThat(relay.heartbeat("b", 2000, 2000)).as("cut off").isCompletedExceptionally();
        int before = rounds.size();
        interval();
        assertThat(rounds).as("a round of no heartbeats, though none waits").hasSize(before + 1);
        assertThat(rounds.get(before)).isEmpty();
        leader.clear(); // a leader answers from now on
        interval();
        CompletableFuture<Verdict> c = relay.heartbeat("c", 2000, 2000);
        assertThat(c).as("held for a round again").isNotDone();
        interval();
        assertThat(c).isCompletedWithValue(Verdict.ACKED);
    }

    @Test
    void aLeaderOfAnOlderBuildSendsTheClientsToIt() {
        leader.add(ids -> Optional.empty());
        CompletableFuture<Verdict> held = relay.heartbeat("a", 2000, 2000);
        interval();
        assertThat(failure(held)).isInstanceOf(NotLeaderException.class);
    }

    @Test
    void closingFailsWhatWaits() {
        CompletableFuture<Verdict> held = relay.heartbeat("a", 2000, 2000);
        relay.close();
        assertThat(failure(held)).isInstanceOf(UnavailableException.class).hasMessageContaining("shutting down");
        assertThat(failure(relay.heartbeat("b", 2000, 2000))).isInstanceOf(UnavailableException.class);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        try {
            f.join();
            throw new AssertionError("completed normally: " + f.join());
        } catch (CompletionException e) {
            return e.getCause();
        }
    }
}
