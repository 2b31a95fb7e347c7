package io.holdfast.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.server.raft.TableQuery.TouchSessions;
import io.holdfast.server.raft.TableQuery.TouchSessions.Answer;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** The wire form of a relayed round of heartbeats and of the leader's answer (ADR 0003). */
class TouchSessionsTest {
    @Test
    void aRoundReadsBackAsItWasSent() {
        TouchSessions round = new TouchSessions(List.of("AbCdEfGhIjKlMnOpQrStUv", "x-y_z0123456789abcdefgh"));
        assertThat(TableQuery.of(round.message())).isEqualTo(round);
        assertThat(round.wire().toStringUtf8())
                .isEqualTo("holdfast/touch\nAbCdEfGhIjKlMnOpQrStUv\nx-y_z0123456789abcdefgh");
    }

    @Test
    void theOtherQueriesAreNotTakenForARound() {
        assertThat(TableQuery.of(Message.EMPTY)).isEqualTo(TableQuery.BARRIER);
        assertThat(TableQuery.of(TableQuery.CLUSTER_ID.message())).isEqualTo(TableQuery.CLUSTER_ID);
        assertThat(TableQuery.of(Message.valueOf("holdfast/other"))).isInstanceOf(TableQuery.Unknown.class);
    }

    @Test
    void verdictsAndRefusalsReadBackInOrder() {
        Answer verdicts = Answer.of(List.of(Verdict.ACKED, Verdict.GONE, Verdict.EXPIRING, Verdict.UNTRACKED));
        assertThat(Answer.parse(verdicts.message().getContent(), 4)).contains(verdicts);
        Answer refused = Answer.refused("node n2 does not hold its lease: a majority has not answered it");
        assertThat(Answer.parse(refused.message().getContent(), 4)).contains(refused);
    }

    @Test
    void aLeaderThatDoesNotKnowTheRoundAnswersNothing() {
        // A build answers a query it does not know with the empty message (as builds before the
        // round do for it), and the relay reads that as "this leader does not relay".
        TableQuery unknown = TableQuery.of(Message.valueOf("holdfast/a-query-of-a-later-build"));
        assertThat(unknown.answer(read -> "", null).join()).isEqualTo(Message.EMPTY);
        assertThat(Answer.parse(ByteString.EMPTY, 1)).isEmpty();
    }

    @Test
    void theNodesHooksAnswerARoundAndAStartingNodeRefusesIt() {
        StateMachineHooks hooks = new QuietHooks() {
            @Override
            public Answer touchSessions(List<String> sessionIds) {
                return Answer.of(sessionIds.stream()
                        .map(id -> id.equals("gone") ? Verdict.GONE : Verdict.ACKED)
                        .toList());
            }
        };
        TouchSessions round = new TouchSessions(List.of("here", "gone"));
        assertThat(Answer.parse(round.answer(read -> "", hooks).join().getContent(), 2))
                .contains(Answer.of(List.of(Verdict.ACKED, Verdict.GONE)));
        assertThat(Answer.parse(round.answer(read -> "", null).join().getContent(), 2))
                .contains(Answer.refused("this node is starting"));
    }

    @Test
    void anAnswerWithAnotherNumberOfVerdictsIsRefused() {
        ByteString two = ByteString.copyFrom("ok\naa", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Answer.parse(two, 3)).isInstanceOf(IllegalArgumentException.class);
        ByteString junk = ByteString.copyFrom("maybe", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Answer.parse(junk, 1)).isInstanceOf(IllegalArgumentException.class);
        ByteString letter = ByteString.copyFrom("ok\nz", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Answer.parse(letter, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
