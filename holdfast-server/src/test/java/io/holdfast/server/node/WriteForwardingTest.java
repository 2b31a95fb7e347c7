package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.UnavailableException;
import io.holdfast.endpoint.frame.FrameWrites;
import io.holdfast.model.Command;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.AppliedWaits;
import io.holdfast.server.raft.Forward;
import io.holdfast.server.raft.ForwardBatch;
import io.holdfast.server.raft.TableQuery;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/**
 * A member's forwarded write is answered within its bound ({@link WriteForwarding}): a leader that
 * does not answer (a new leader not serving yet, a link still trying a member that no longer leads)
 * makes the member tell its client UNAVAILABLE after {@code answerMillis}, before the client's own
 * attempt (5 s in every client) gives up on the member and pauses: stop 103's CI saw a Go client's
 * new session opened 5.3 s after the service returned.
 */
class WriteForwardingTest {
    private static final long ANSWER_MILLIS = 2500;

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);
    /** The leader's answers the member is waiting for, in the order asked. */
    private final List<CompletableFuture<ByteString>> asked = new ArrayList<>();
    /** What the member asked the leader, in order. */
    private final List<TableQuery> queries = new ArrayList<>();

    private final WriteForwarding forwarding = new WriteForwarding(
            "n1",
            (TableQuery query) -> {
                queries.add(query);
                CompletableFuture<ByteString> answer = new CompletableFuture<>();
                asked.add(answer);
                return answer;
            },
            Runnable::run,
            new AppliedWaits(),
            () -> new NotLeaderException("this node is not the leader", null),
            () -> true,
            scheduler,
            2000,
            ANSWER_MILLIS,
            ticker);

    private static Command open(String id) {
        return new Command.OpenSession(id, "client-" + id, 10_000, 0);
    }

    @Test
    void writesOneFrameBatchBroughtGoToTheLeaderInOneCall() {
        List<CompletableFuture<Reply>> replies = new ArrayList<>();
        FrameWrites.together(() -> {
            for (int i = 0; i < 6; i++) {
                replies.add(forwarding.forward(open("s" + i + "AbCdEfGhIjKlMnOpQrSt"), null));
            }
            assertThat(queries).as("nothing asked before the batch ends").isEmpty();
        });
        assertThat(queries).as("one call for the six").hasSize(1);
        assertThat(queries.get(0))
                .isInstanceOfSatisfying(
                        ForwardBatch.class, b -> assertThat(b.writes()).hasSize(6));
        assertThat(replies).allSatisfy(r -> assertThat(r).isNotDone());
    }

    @Test
    void aWriteTheLeaderDoesNotAnswerFailsUnavailableOnceTheBoundHasPassed() {
        CompletableFuture<Reply> reply = forwarding.forward(open("s1AbCdEfGhIjKlMnOpQrSt"), null);
        assertThat(asked).as("the write went to the leader").hasSize(1);

        scheduler.advance(Duration.ofMillis(ANSWER_MILLIS - 1));
        assertThat(reply)
                .as("still within the bound: the member waits for the leader")
                .isNotDone();

        scheduler.advance(Duration.ofMillis(1));
        assertThat(reply).isCompletedExceptionally();
        Throwable failure = failure(reply);
        assertThat(failure)
                .isInstanceOf(UnavailableException.class)
                .hasMessage("member n1 could not forward the write: the leader did not answer within 2500 ms");

        // The leader's late answer changes nothing here (the client has asked again elsewhere).
        asked.get(0).complete(Forward.Answer.of(Reply.Ok.INSTANCE, -1).message().getContent());
        assertThat(failure(reply)).isSameAs(failure);
    }

    @Test
    void aWriteTheLeaderAnswersWithinTheBoundIsRepliedAndItsBoundIsCancelled() throws Exception {
        CompletableFuture<Reply> reply = forwarding.forward(open("s2AbCdEfGhIjKlMnOpQrSt"), null);
        scheduler.advance(Duration.ofMillis(ANSWER_MILLIS - 1));
        asked.get(0).complete(Forward.Answer.of(Reply.Ok.INSTANCE, -1).message().getContent());

        assertThat(reply.get()).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(scheduler.queued())
                .as("the answered write's bound is cancelled")
                .isZero();
    }

    private static Throwable failure(CompletableFuture<Reply> reply) {
        try {
            reply.get();
            throw new AssertionError("answered: " + reply.join());
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
