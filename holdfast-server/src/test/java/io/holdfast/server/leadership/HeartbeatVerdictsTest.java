package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.LockStateMachine;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A leader's verdicts on a round of heartbeats: one per session in the round's order, and a large
 * round read and touched a slice at a time, so that the leader's apply path, which takes the same
 * table lock and duties' monitor for every entry, waits for one slice at most, not for the round.
 */
class HeartbeatVerdictsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LockStateMachine machine = new LockStateMachine();
    private final LeaderDuties duties = new LeaderDuties(
            "n1", now::get, machine, c -> CompletableFuture.completedFuture((Reply) Reply.Ok.INSTANCE));

    @AfterEach
    void closeTheDuties() {
        duties.close();
    }

    @Test
    void aLargeRoundIsReadInSlicesThatSeeWhatWasAppliedBetweenThem() {
        int n = 4 * HeartbeatVerdicts.SLICE;
        List<String> round = new ArrayList<>();
        duties.start();
        for (int i = 0; i < n; i++) {
            String id = String.format("session-%06d-abcdefgh", i);
            apply(machine, new Command.OpenSession(id, "t", 60_000, 0));
            duties.opened(id, 60_000);
            round.add(id);
        }
        String never = "session-never-opened-xy";
        round.set(n - 1, never);
        String closedMeanwhile = round.get(3 * HeartbeatVerdicts.SLICE + 7);
        AtomicInteger leaseChecks = new AtomicInteger();

        List<Verdict> verdicts = HeartbeatVerdicts.of(
                machine,
                duties,
                () -> {
                    if (leaseChecks.incrementAndGet() == 1) {
                        // Between the first slice's read and its touch, holding nothing: an entry is
                        // applied that closes a session of the last slice; the duties are not told yet.
                        apply(machine, new Command.CloseSession(new Command.Invocation(closedMeanwhile, 1, 1)));
                    }
                    return Optional.empty();
                },
                round);

        assertThat(verdicts).hasSize(n);
        assertThat(verdicts.get(3 * HeartbeatVerdicts.SLICE + 7))
                .as("read after the close: the whole round was not read under one hold of the table")
                .isEqualTo(Verdict.GONE);
        assertThat(verdicts.get(n - 1)).as("a session the table never had").isEqualTo(Verdict.GONE);
        List<Verdict> rest = new ArrayList<>(verdicts);
        rest.remove(n - 1);
        rest.remove(3 * HeartbeatVerdicts.SLICE + 7);
        assertThat(rest).as("every other session, in order").containsOnly(Verdict.ACKED);
        assertThat(leaseChecks).as("the lease, checked after each slice's read").hasValue(4);
    }

    @Test
    void aSmallRoundIsOneSlice() {
        duties.start();
        apply(machine, new Command.OpenSession("session-a-0123456789", "t", 60_000, 0));
        duties.opened("session-a-0123456789", 60_000);
        AtomicInteger leaseChecks = new AtomicInteger();
        assertThat(HeartbeatVerdicts.of(
                        machine,
                        duties,
                        () -> {
                            leaseChecks.incrementAndGet();
                            return Optional.empty();
                        },
                        List.of("session-b-0123456789", "session-a-0123456789")))
                .containsExactly(Verdict.GONE, Verdict.ACKED);
        assertThat(leaseChecks).hasValue(1);
    }

    private static Reply apply(LockStateMachine machine, Command command) {
        return machine.read(table -> table.apply(0, command, event -> {}));
    }
}
