package io.holdfast.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/**
 * Writes forwarded together: the batch reads back write for write, each answer for its write; an
 * older leader's silence and a cut batch are told apart from an answer; the leader hands the writes
 * to its gate one after the other and answers each as it would alone.
 */
class ForwardBatchTest {
    private static Command acquire(int i) {
        return new Command.Acquire(
                new Command.Invocation("s1AbCdEfGhIjKlMnOpQrSt", i, 3),
                "orders/" + i,
                LockMode.EXCLUSIVE,
                1,
                1,
                9,
                0,
                0);
    }

    @Test
    void aBatchReadsBackWriteForWriteWithTheirIdentities() {
        ForwardBatch sent = new ForwardBatch(List.of(Forward.of(acquire(1), "alice"), Forward.of(acquire(2), null)));
        TableQuery got = TableQuery.of(sent.message());
        assertThat(got).isInstanceOf(ForwardBatch.class);
        List<Forward> writes = ((ForwardBatch) got).writes();
        assertThat(writes).hasSize(2);
        assertThat(writes.get(0).envelope()).isEqualTo(new Command.Envelope(0, "alice", acquire(1)));
        assertThat(writes.get(1).envelope()).isEqualTo(new Command.Envelope(0, null, acquire(2)));
        assertThat(TableQuery.of(Forward.of(acquire(3), "bob").message()))
                .as("a single forward is still one")
                .isInstanceOf(Forward.class);
    }

    @Test
    void aCutBatchIsNotTakenForWritesAndAnUnreadableWriteIsSaidSo() {
        ByteString whole = new ForwardBatch(List.of(Forward.of(acquire(1), "alice"))).wire();
        TableQuery cut = TableQuery.of(Message.valueOf(whole.substring(0, whole.size() - 3)));
        assertThat(cut).as("answered with nothing, as an unknown query").isInstanceOf(TableQuery.Unknown.class);

        ByteString garbage = ByteString.copyFrom(new byte[] {1, (byte) 250, 0, 0});
        ByteString oneBad = ForwardBatch.PREFIX
                .concat(ByteString.copyFrom(new byte[] {0, 0, 0, (byte) (Forward.PREFIX.size() + 4)}))
                .concat(Forward.PREFIX)
                .concat(garbage);
        ForwardBatch bad = (ForwardBatch) TableQuery.of(Message.valueOf(oneBad));
        assertThat(bad.writes()).singleElement().satisfies(w -> {
            assertThat(w.envelope()).isNull();
            assertThat(w.unreadable()).isNotBlank();
        });
    }

    @Test
    void theAnswersReadBackInOrderAndAnOlderLeadersSilenceIsEmpty() {
        List<Forward.Answer> each = List.of(
                Forward.Answer.of(new Reply.Granted(41), 12),
                Forward.Answer.of(Reply.Failed.of(ErrorCode.DEADLOCK, "a cycle"), 13),
                Forward.Answer.failed(ErrorCode.PERMISSION_DENIED, "identity bob may not lock orders/1", 14),
                Forward.Answer.refused("node n1 is not the leader"));
        ByteString content = new ForwardBatch.Answer(each).message().getContent();
        List<ByteString> parts = ForwardBatch.Answer.parse(content, 4).orElseThrow();
        for (int i = 0; i < each.size(); i++) {
            assertThat(Forward.Answer.parse(parts.get(i))).contains(each.get(i));
        }
        assertThat(ForwardBatch.Answer.parse(ByteString.EMPTY, 4))
                .as("an older build's silence")
                .isEmpty();
        assertThatThrownBy(() -> ForwardBatch.Answer.parse(content, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("answered 4 of 3");
    }

    @Test
    void theLeaderHandsEveryWriteToItsGateBeforeAnyIsAnswered() {
        List<Forward> handed = new ArrayList<>();
        List<CompletableFuture<Forward.Answer>> pending = new ArrayList<>();
        StateMachineHooks hooks = new QuietHooks() {
            @Override
            public CompletableFuture<Forward.Answer> forward(Forward write) {
                handed.add(write);
                CompletableFuture<Forward.Answer> f = new CompletableFuture<>();
                pending.add(f);
                return f;
            }
        };
        ForwardBatch batch = new ForwardBatch(List.of(Forward.of(acquire(1), null), Forward.of(acquire(2), null)));
        CompletableFuture<ForwardBatch.Answer> answer = hooks.forwardBatch(batch);
        assertThat(handed).as("both submitted at once").hasSize(2);
        pending.get(1).complete(Forward.Answer.of(new Reply.Granted(8), 20));
        assertThat(answer).isNotDone();
        pending.get(0).completeExceptionally(new IllegalStateException("the gate broke"));
        assertThat(answer.join().answers())
                .containsExactly(
                        Forward.Answer.failed(ErrorCode.UNAVAILABLE, "the gate broke", -1),
                        Forward.Answer.of(new Reply.Granted(8), 20));
    }
}
