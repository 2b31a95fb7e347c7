package io.holdfast.server.raft;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * A member's request for the leader's read index (ADR 0003): the leader passes its own read
 * barrier and checks its lease, then answers with the index it has applied and its cluster clock.
 * The member waits until it has applied that index and reads its own table: the read sees every
 * write acknowledged before it was asked, as a read at the leader does. It is not read from the
 * table: the state machine hands it to the node's hooks ({@link StateMachineHooks#readIndex}).
 *
 * <p>Why not Ratis's own read index at a follower: the leader answers it at once when its last
 * heartbeat round was acknowledged, without a lease check, so a leader deposed a moment ago (cut
 * off, or paused) would hand out an index that misses a newer leader's writes ({@code
 * RaftGateway#afterBarrier} says the same of the leader's own reads).
 *
 * <p><b>Wire form.</b> The UTF-8 text {@code holdfast/read-index}. The answer: {@code index INDEX
 * NOW}; or {@code refused}, a line break, and why. A build that does not know the query answers the
 * empty message.
 */
public record ReadIndex() implements TableQuery {
    static final ByteString WIRE = ByteString.copyFrom("holdfast/read-index", StandardCharsets.UTF_8);

    /** The query (it has no fields). */
    public static final ReadIndex QUERY = new ReadIndex();

    @Override
    public ByteString wire() {
        return WIRE;
    }

    /**
     * The leader's answer: the index it had applied after its barrier and its cluster clock then;
     * or, with {@code refusal} set, why it refused (it does not lead, or lacks its lease).
     */
    public record Answer(long index, long clusterNow, String refusal) {
        public static Answer of(long index, long clusterNow) {
            return new Answer(index, clusterNow, null);
        }

        public static Answer refused(String why) {
            return new Answer(-1, 0, why);
        }

        public Message message() {
            String text = refusal != null ? "refused\n" + refusal : "index " + index + " " + clusterNow;
            return Message.valueOf(ByteString.copyFrom(text, StandardCharsets.UTF_8));
        }

        /**
         * The answer a reply holds; empty when the leader's build does not know the query.
         *
         * @throws IllegalArgumentException if the reply is neither form
         */
        public static Optional<Answer> parse(ByteString content) {
            if (content.isEmpty()) {
                return Optional.empty();
            }
            String text = content.toStringUtf8();
            if (text.startsWith("refused\n")) {
                return Optional.of(refused(text.substring("refused\n".length())));
            }
            String[] words = text.split(" ");
            if (words.length != 3 || !words[0].equals("index")) {
                throw new IllegalArgumentException("a malformed answer to a read index: " + text);
            }
            try {
                return Optional.of(of(Long.parseLong(words[1]), Long.parseLong(words[2])));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a malformed answer to a read index: " + text, e);
            }
        }
    }
}
