package io.holdfast.server.raft;

import io.holdfast.core.LockTable;
import java.nio.charset.StandardCharsets;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * What a read-only Ratis request asks this node's state machine ({@link LockStateMachine#query}),
 * and its form in the request's message.
 *
 * <p><b>Wire form.</b> {@link Barrier}: the empty message. {@link ClusterId}: the UTF-8 text
 * {@code holdfast/cluster-id}. Both forms are fixed: a node asks its peers for their cluster id
 * over the Raft port before it starts ({@code ClusterIdentity#ask}), so during a rolling upgrade a
 * node of one build asks a node of another. Any other message decodes to {@link Unknown}, which is
 * answered with the empty message: a build that does not know a query says nothing, and an asker
 * takes the empty answer as "nothing to say" (a cluster id unknown, a peer passed over).
 *
 * <p>The barrier carries no read of its own: Ratis answers it once this replica has applied the
 * leader's commit index (the LINEARIZABLE read option), and the caller then reads the table under
 * its lock ({@code RaftGateway#afterBarrier}).
 */
public sealed interface TableQuery {
    /** The read barrier (see the class comment). */
    TableQuery BARRIER = new Barrier();

    /** The cluster id this replica's table holds; answered with it as text, or empty for none. */
    TableQuery CLUSTER_ID = new ClusterId();

    /** This query as the content of a Ratis message. */
    ByteString wire();

    /** This query as a Ratis message. */
    default Message message() {
        return Message.valueOf(wire());
    }

    /** The query a message holds; {@link Unknown} when this build does not know it. */
    static TableQuery of(Message request) {
        ByteString content = request.getContent();
        if (content.isEmpty()) {
            return BARRIER;
        }
        if (content.equals(CLUSTER_ID.wire())) {
            return CLUSTER_ID;
        }
        return new Unknown(content);
    }

    /**
     * The answer to this query from {@code table} (read under the apply lock): the cluster id as
     * text for {@link ClusterId}, the empty message for the barrier and for a query this build does
     * not know.
     */
    default Message answer(java.util.function.Function<java.util.function.Function<LockTable, String>, String> read) {
        if (this instanceof ClusterId) {
            return Message.valueOf(read.apply(t ->
                    ClusterIdRecord.inTable(t).map(java.util.UUID::toString).orElse("")));
        }
        return Message.EMPTY;
    }

    /** Wait until this replica has applied the leader's commit index; answered with nothing. */
    record Barrier() implements TableQuery {
        @Override
        public ByteString wire() {
            return ByteString.EMPTY;
        }
    }

    /** Which cluster this replica's table belongs to ({@code ClusterIdentity}). */
    record ClusterId() implements TableQuery {
        private static final ByteString WIRE = ByteString.copyFrom("holdfast/cluster-id", StandardCharsets.UTF_8);

        @Override
        public ByteString wire() {
            return WIRE;
        }
    }

    /** A query this build does not know, as it came. */
    record Unknown(ByteString wire) implements TableQuery {}
}
