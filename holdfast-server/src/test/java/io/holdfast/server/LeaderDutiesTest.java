package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.Command;
import io.holdfast.core.Reply;
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
        List<Command> proposed = new CopyOnWriteArrayList<>();
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
            assertThat(proposed).singleElement().isInstanceOf(Command.ExpireSession.class);
            assertThat(duties.isActive()).isFalse();
        } finally {
            Thread closer = new Thread(duties::close, "close-duties"); // blocks forever if deadlocked
            closer.setDaemon(true);
            closer.start();
        }
    }
}
