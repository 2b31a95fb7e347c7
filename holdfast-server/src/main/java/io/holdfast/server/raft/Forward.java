package io.holdfast.server.raft;

import io.holdfast.ErrorCode;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.CommandFormatException;
import io.holdfast.core.ReplyCodec;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * A client's write that a member which does not lead forwards to the leader (ADR 0003): the
 * command and the identity the member authenticated, which the leader submits through its own gate
 * as if the client had sent it there (the cluster clock, access rules, quotas, the cluster's
 * version, batching: all once, at the leader). It is not read from the table: the state machine
 * hands it to the node's hooks ({@link StateMachineHooks#forward}).
 *
 * <p><b>Who may send it.</b> It rides the Raft port, a read-only Ratis request served by the
 * leader's {@code StateMachine#query}: only what can speak Raft to the members can send it, which
 * with TLS on means only a holder of a member's certificate (the port's mutual TLS). The identity
 * it carries is the one the forwarding member authenticated on its client port; the leader trusts
 * it as it trusts the members' log entries.
 *
 * <p><b>Wire form.</b> The UTF-8 text {@code holdfast/forward}, a line break, then the command in
 * its envelope as the log has it ({@link CommandCodec#encode(Command.Envelope)}, time 0: the leader
 * stamps its own). The answer ({@link Answer}): {@code reply INDEX}, a line break and the reply as
 * {@link ReplyCodec} writes it; {@code error INDEX CODE}, a line break and the message; or {@code
 * refused}, a line break and why (the node does not lead). A build that does not know the query
 * answers the empty message ({@link TableQuery.Unknown}).
 *
 * @param envelope the command and the identity; null when the leader's build could not read it
 * @param unreadable why the leader could not read it, or null
 */
public record Forward(Command.Envelope envelope, String unreadable) implements TableQuery {
    static final ByteString PREFIX = ByteString.copyFrom("holdfast/forward\n", StandardCharsets.UTF_8);

    /** The command to forward, with the identity its member authenticated (null: none). */
    public static Forward of(Command command, String identity) {
        return new Forward(new Command.Envelope(0, identity, command), null);
    }

    @Override
    public ByteString wire() {
        return PREFIX.concat(ByteString.copyFrom(CommandCodec.encode(envelope)));
    }

    static Forward parse(ByteString content) {
        try {
            return new Forward(
                    CommandCodec.decodeEnvelope(content.substring(PREFIX.size()).toByteArray()), null);
        } catch (CommandFormatException | RuntimeException e) {
            return new Forward(null, e.getMessage());
        }
    }

    /**
     * The leader's answer to a forwarded write: its reply, or the failure it answered with (an
     * {@link ErrorCode} and its detail), each with the leader's applied index when it answered
     * (at or past the entry the reply came from); or, with neither, why it refused (it does not
     * lead).
     */
    public record Answer(Reply reply, ErrorCode code, String detail, long index, String refusal) {
        public static Answer of(Reply reply, long index) {
            return new Answer(reply, null, null, index, null);
        }

        public static Answer failed(ErrorCode code, String detail, long index) {
            return new Answer(null, code, detail, index, null);
        }

        public static Answer refused(String why) {
            return new Answer(null, null, null, -1, why);
        }

        /** This answer as the content of the query's reply. */
        public Message message() {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                if (refusal != null) {
                    out.write(("refused\n" + refusal).getBytes(StandardCharsets.UTF_8));
                } else if (reply != null) {
                    out.write(("reply " + index + "\n").getBytes(StandardCharsets.UTF_8));
                    ReplyCodec.write(reply, out);
                } else {
                    out.write(("error " + index + " " + code.name() + "\n" + detail).getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Message.valueOf(ByteString.copyFrom(bytes.toByteArray()));
        }

        /**
         * The answer a reply holds; empty when the leader's build does not know the query (it
         * answered nothing).
         *
         * @throws IllegalArgumentException if the reply is none of the forms
         */
        public static Optional<Answer> parse(ByteString content) {
            if (content.isEmpty()) {
                return Optional.empty();
            }
            int eol = content.toByteArray().length;
            byte[] all = content.toByteArray();
            for (int i = 0; i < all.length; i++) {
                if (all[i] == '\n') {
                    eol = i;
                    break;
                }
            }
            String head = new String(all, 0, eol, StandardCharsets.UTF_8);
            String rest =
                    eol < all.length ? new String(all, eol + 1, all.length - eol - 1, StandardCharsets.UTF_8) : "";
            String[] words = head.split(" ");
            try {
                switch (words[0]) {
                    case "refused":
                        return Optional.of(refused(rest));
                    case "reply":
                        try (DataInputStream in = new DataInputStream(
                                new java.io.ByteArrayInputStream(all, eol + 1, all.length - eol - 1))) {
                            return Optional.of(of(ReplyCodec.read(in), Long.parseLong(words[1])));
                        }
                    case "error":
                        return Optional.of(failed(ErrorCode.valueOf(words[2]), rest, Long.parseLong(words[1])));
                    default:
                        throw new IllegalArgumentException("a malformed answer to a forwarded write: " + head);
                }
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("a malformed answer to a forwarded write: " + e.getMessage(), e);
            }
        }
    }
}
