package io.holdfast.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.EventSink;
import io.holdfast.model.Command;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.junit.jupiter.api.Test;

/**
 * The typed queries of the state machine: their wire forms, which nodes of other builds send and
 * answer during a rolling upgrade, and what {@link LockStateMachine#query} answers to each.
 */
class TableQueryTest {
    /** What every build sends and answers for the cluster id: this text, byte for byte. */
    private static final Message CLUSTER_ID_AS_SENT = Message.valueOf("holdfast/cluster-id");

    @Test
    void theWireFormsAreFixed() {
        assertThat(TableQuery.BARRIER.message().getContent().isEmpty()).isTrue();
        assertThat(TableQuery.CLUSTER_ID.message().getContent()).isEqualTo(CLUSTER_ID_AS_SENT.getContent());
        assertThat(TableQuery.of(Message.EMPTY)).isEqualTo(TableQuery.BARRIER);
        assertThat(TableQuery.of(CLUSTER_ID_AS_SENT)).isEqualTo(TableQuery.CLUSTER_ID);
        assertThat(TableQuery.of(Message.valueOf("holdfast/something-newer"))).isInstanceOf(TableQuery.Unknown.class);
    }

    @Test
    void theMachineAnswersEachQuery() throws Exception {
        LockStateMachine machine = new LockStateMachine();
        assertThat(answer(machine, TableQuery.BARRIER.message())).isEmpty();
        assertThat(answer(machine, CLUSTER_ID_AS_SENT)).as("no id recorded yet").isEmpty();
        assertThat(answer(machine, Message.valueOf("holdfast/something-newer")))
                .as("a query this build does not know: nothing to say")
                .isEmpty();

        UUID id = UUID.randomUUID();
        // The table as the first leader's report of the id leaves it (ClusterIdentity).
        machine.read(t -> t.apply(0, new Command.ReportVersion(ClusterIdRecord.PREFIX + id, 1), EventSink.NONE));
        assertThat(answer(machine, CLUSTER_ID_AS_SENT)).isEqualTo(id.toString());
        assertThat(answer(machine, TableQuery.BARRIER.message())).isEmpty();
    }

    private static String answer(LockStateMachine machine, Message request) throws Exception {
        return machine.query(request).get(5, TimeUnit.SECONDS).getContent().toString(StandardCharsets.UTF_8);
    }
}
