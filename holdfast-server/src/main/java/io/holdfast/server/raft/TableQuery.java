package io.holdfast.server.raft;

import io.holdfast.core.LockTable;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
public sealed interface TableQuery
        permits TableQuery.Barrier,
                TableQuery.ClusterId,
                TableQuery.TouchSessions,
                TableQuery.Unknown,
                Forward,
                ForwardBatch,
                ReadIndex {
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
        if (content.startsWith(TouchSessions.PREFIX)) {
            return TouchSessions.parse(content);
        }
        if (content.startsWith(Forward.PREFIX)) {
            return Forward.parse(content);
        }
        if (content.startsWith(ForwardBatch.PREFIX)) {
            try {
                return ForwardBatch.parse(content);
            } catch (IllegalArgumentException e) {
                return new Unknown(content); // cut short: answered with nothing, as a query not known
            }
        }
        if (content.equals(ReadIndex.WIRE)) {
            return ReadIndex.QUERY;
        }
        return new Unknown(content);
    }

    /**
     * The answer to this query from {@code table} (read under the apply lock): the cluster id as
     * text for {@link ClusterId}, the empty message for the barrier and for a query this build does
     * not know. A {@link TouchSessions} round, a {@link Forward}ed write and a {@link ReadIndex} are
     * not read from the table: {@code hooks} answer them (refused while they are not set: the node
     * is starting); a forwarded write and a read index may complete later, off Ratis's thread.
     */
    default java.util.concurrent.CompletableFuture<Message> answer(
            java.util.function.Function<java.util.function.Function<LockTable, String>, String> read,
            StateMachineHooks hooks) {
        if (this instanceof TouchSessions round) {
            return java.util.concurrent.CompletableFuture.completedFuture(
                    hooks == null
                            ? TouchSessions.Answer.refused("this node is starting")
                                    .message()
                            : hooks.touchSessions(round.sessionIds()).message());
        }
        if (this instanceof Forward forward) {
            if (hooks == null) {
                return java.util.concurrent.CompletableFuture.completedFuture(
                        Forward.Answer.refused("this node is starting").message());
            }
            return hooks.forward(forward).thenApply(Forward.Answer::message);
        }
        if (this instanceof ForwardBatch batch) {
            if (hooks == null) {
                List<Forward.Answer> refused = new java.util.ArrayList<>();
                batch.writes().forEach(w -> refused.add(Forward.Answer.refused("this node is starting")));
                return java.util.concurrent.CompletableFuture.completedFuture(
                        new ForwardBatch.Answer(refused).message());
            }
            return hooks.forwardBatch(batch).thenApply(ForwardBatch.Answer::message);
        }
        if (this instanceof ReadIndex) {
            if (hooks == null) {
                return java.util.concurrent.CompletableFuture.completedFuture(
                        ReadIndex.Answer.refused("this node is starting").message());
            }
            return hooks.readIndex().thenApply(ReadIndex.Answer::message);
        }
        if (this instanceof ClusterId) {
            return java.util.concurrent.CompletableFuture.completedFuture(Message.valueOf(read.apply(t ->
                    ClusterIdRecord.inTable(t).map(java.util.UUID::toString).orElse(""))));
        }
        return java.util.concurrent.CompletableFuture.completedFuture(Message.EMPTY);
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

    /**
     * A round of heartbeats that a member relays to the leader for the sessions it serves (ADR
     * 0003): the leader touches each session as if the heartbeat had come to it, and answers each
     * with a {@link Verdict}, or refuses the whole round ({@link Answer#refusal}: it does not lead,
     * or lacks its lease). It is not read from the table: the state machine hands it to the node's
     * hooks ({@link StateMachineHooks#touchSessions}).
     *
     * <p><b>Wire form.</b> The UTF-8 text {@code holdfast/touch}, then each session id on a line of
     * its own (ids never hold a line break). The answer: {@code ok}, a line break, one letter per id
     * in order ({@link Verdict#letter}); or {@code refused}, a line break, and why. A build that
     * does not know the query answers the empty message ({@link Unknown}).
     */
    record TouchSessions(List<String> sessionIds) implements TableQuery {
        static final ByteString PREFIX = ByteString.copyFrom("holdfast/touch", StandardCharsets.UTF_8);

        public TouchSessions {
            sessionIds = List.copyOf(sessionIds);
        }

        @Override
        public ByteString wire() {
            StringBuilder text = new StringBuilder("holdfast/touch");
            for (String id : sessionIds) {
                text.append('\n').append(id);
            }
            return ByteString.copyFrom(text.toString(), StandardCharsets.UTF_8);
        }

        static TouchSessions parse(ByteString content) {
            String[] lines = content.toStringUtf8().split("\n", -1);
            return new TouchSessions(List.of(lines).subList(1, lines.length));
        }

        /** What the leader says of one relayed heartbeat. */
        public enum Verdict {
            /** Touched: its deadline is a TTL from now on the leader; acknowledge the heartbeat. */
            ACKED('a'),
            /** Its expiry is in flight: do not acknowledge; the client asks again. */
            EXPIRING('e'),
            /** The leader's table has no such session: expired or closed. */
            GONE('g'),
            /** The leader does not track it yet (it leads since a moment): the client asks again. */
            UNTRACKED('u');

            private final char letter;

            Verdict(char letter) {
                this.letter = letter;
            }

            /** Its letter in the answer. */
            public char letter() {
                return letter;
            }

            static Verdict of(char letter) {
                for (Verdict v : values()) {
                    if (v.letter == letter) {
                        return v;
                    }
                }
                throw new IllegalArgumentException("no verdict '" + letter + "'");
            }
        }

        /**
         * The leader's answer to a round: a verdict per id, in the round's order; or, with no
         * verdicts, why it refused the whole round.
         */
        public record Answer(List<Verdict> verdicts, String refusal) {
            public Answer {
                verdicts = List.copyOf(verdicts);
            }

            public static Answer of(List<Verdict> verdicts) {
                return new Answer(verdicts, null);
            }

            public static Answer refused(String why) {
                return new Answer(List.of(), why);
            }

            /** This answer as the content of the query's reply. */
            public Message message() {
                StringBuilder text = new StringBuilder(refusal == null ? "ok\n" : "refused\n");
                if (refusal != null) {
                    text.append(refusal);
                }
                for (Verdict v : verdicts) {
                    text.append(v.letter());
                }
                return Message.valueOf(ByteString.copyFrom(text.toString(), StandardCharsets.UTF_8));
            }

            /**
             * The answer a reply holds for a round of {@code size} ids; empty when the leader's
             * build does not know the query (it answered nothing).
             *
             * @throws IllegalArgumentException if the reply is neither form, or has another number of verdicts
             */
            public static java.util.Optional<Answer> parse(ByteString content, int size) {
                if (content.isEmpty()) {
                    return java.util.Optional.empty();
                }
                String text = content.toStringUtf8();
                if (text.startsWith("refused\n")) {
                    return java.util.Optional.of(refused(text.substring("refused\n".length())));
                }
                if (!text.startsWith("ok\n") || text.length() != 3 + size) {
                    throw new IllegalArgumentException("a malformed answer to a round of " + size + " heartbeats");
                }
                List<Verdict> verdicts = new java.util.ArrayList<>(size);
                for (int i = 3; i < text.length(); i++) {
                    verdicts.add(Verdict.of(text.charAt(i)));
                }
                return java.util.Optional.of(of(verdicts));
            }
        }
    }

    /** A query this build does not know, as it came. */
    record Unknown(ByteString wire) implements TableQuery {}
}
