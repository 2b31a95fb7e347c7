package io.holdfast.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.UnavailableException;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/**
 * The wire forms of a forwarded write and of a read index and their answers (ADR 0003), and the
 * wait for an applied index that a member makes before it answers.
 */
class ForwardQueryTest {
    private static final Command ACQUIRE = new Command.Acquire(
            new Command.Invocation("s1AbCdEfGhIjKlMnOpQrSt", 7, 3), "orders/1", LockMode.SHARED, 1, 1, 9, 5_000, 0);

    @Test
    void aForwardedWriteReadsBackWithItsIdentity() {
        Forward sent = Forward.of(ACQUIRE, "alice");
        TableQuery got = TableQuery.of(sent.message());
        assertThat(got).isInstanceOf(Forward.class);
        assertThat(((Forward) got).envelope()).isEqualTo(new Command.Envelope(0, "alice", ACQUIRE));
        Forward anonymous = (Forward) TableQuery.of(Forward.of(ACQUIRE, null).message());
        assertThat(anonymous.envelope().identity()).isNull();
    }

    @Test
    void aCommandTheLeaderCannotReadIsSaidSoNotTakenForAnotherQuery() {
        Forward bad = (Forward) TableQuery.of(
                Message.valueOf(Forward.PREFIX.concat(ByteString.copyFrom(new byte[] {1, (byte) 250, 0, 0}))));
        assertThat(bad.envelope()).isNull();
        assertThat(bad.unreadable()).isNotBlank();
        assertThat(TableQuery.of(ReadIndex.QUERY.message())).isEqualTo(ReadIndex.QUERY);
    }

    @Test
    void everyAnswerReadsBack() {
        for (Forward.Answer a : new Forward.Answer[] {
            Forward.Answer.of(new Reply.Granted(41), 12),
            Forward.Answer.of(Reply.Failed.of(ErrorCode.DEADLOCK, "a cycle"), 13),
            Forward.Answer.failed(ErrorCode.PERMISSION_DENIED, "identity bob may not lock orders/1\nsecond line", 14),
            Forward.Answer.refused("node n1 is not the leader; the leader is at 127.0.0.1:4653")
        }) {
            assertThat(Forward.Answer.parse(a.message().getContent())).contains(a);
        }
        assertThat(Forward.Answer.parse(ByteString.EMPTY))
                .as("an older build's silence")
                .isEmpty();
        assertThatThrownBy(() -> Forward.Answer.parse(ByteString.copyFromUtf8("what")))
                .isInstanceOf(IllegalArgumentException.class);

        ReadIndex.Answer index = ReadIndex.Answer.of(99, 1_700_000_000_000L);
        assertThat(ReadIndex.Answer.parse(index.message().getContent())).contains(index);
        ReadIndex.Answer refused = ReadIndex.Answer.refused("node n1 has not heard from a majority");
        assertThat(ReadIndex.Answer.parse(refused.message().getContent())).contains(refused);
        assertThat(ReadIndex.Answer.parse(ByteString.EMPTY)).isEmpty();
    }

    @Test
    void aWaitForAnIndexCompletesWhenItIsAppliedNotBefore() {
        AppliedWaits waits = new AppliedWaits();
        waits.applied(5);
        assertThat(waits.reached(5, Runnable::run)).isDone();
        CompletableFuture<Void> seven = waits.reached(7, Runnable::run);
        CompletableFuture<Void> nine = waits.reached(9, Runnable::run);
        waits.applied(6);
        assertThat(seven).isNotDone();
        waits.applied(8);
        assertThat(seven).isDone();
        assertThat(nine).isNotDone();
        waits.close();
        assertThat(nine).isCompletedExceptionally();
    }

    /**
     * A member just restarted, catching up on a loaded machine, held a client's read until the
     * client's own deadline (10 s): the wait is bounded, and the client is told to ask elsewhere.
     */
    @Test
    void aBoundedWaitFailsWhenTheReplicaIsStillBehindAndForgetsItself() {
        AppliedWaits waits = new AppliedWaits();
        ManualScheduler timer = new ManualScheduler(new FakeTicker());
        waits.applied(5);
        assertThat(waits.within(5, Runnable::run, timer, 2000, "member n2"))
                .as("an index already applied")
                .isDone();

        CompletableFuture<Void> late = waits.within(9, Runnable::run, timer, 2000, "member n2");
        CompletableFuture<Void> caughtUp = waits.within(7, Runnable::run, timer, 2000, "member n2");
        timer.advance(Duration.ofMillis(1999));
        assertThat(late).isNotDone();
        waits.applied(7);
        assertThat(caughtUp).as("applied within the bound").isCompleted();
        timer.advance(Duration.ofMillis(1));
        assertThat(late).isCompletedExceptionally();
        assertThatThrownBy(late::join)
                .hasCauseInstanceOf(UnavailableException.class)
                .hasMessageContaining(
                        "member n2 is behind its leader: it has applied up to index 7, and the answer needs 9"
                                + " (waited 2000 ms); ask another member");
        timer.advance(Duration.ofSeconds(10));
        assertThat(caughtUp).as("a wait that completed is not failed later").isCompleted();

        CompletableFuture<Void> unbounded = waits.reached(9, Runnable::run);
        waits.applied(9);
        assertThat(unbounded)
                .as("the failed wait was forgotten; the others are served")
                .isCompleted();
        assertThat(late).isCompletedExceptionally();
    }
}
