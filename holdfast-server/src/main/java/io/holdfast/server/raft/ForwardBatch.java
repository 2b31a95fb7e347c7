package io.holdfast.server.raft;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Several writes a member forwards to the leader in one request ({@link Forward}, each as it would
 * be alone): the leader submits them through its own gate together, so its proposer can put them
 * in one log entry, and answers each as it would answer it alone.
 *
 * <p><b>Why.</b> Forwarded one request each, a bulk of acquires homed over the members went into
 * log entries of about three (1,008 acquires a second on 2026-12-06), where the same acquires sent
 * to the leader shared entries of about 36 (6,658 a second; docs/benchmarks.md).
 *
 * <p><b>Wire form.</b> The UTF-8 text {@code holdfast/forward-batch}, a line break, then each write
 * as a 4-byte big-endian length and its {@link Forward#wire() single form}. The answer ({@link
 * Answer}): the UTF-8 text {@code answers}, a line break, then each write's answer as a 4-byte
 * length and its {@link Forward.Answer#message() single form}, in the order of the writes. A build
 * that does not know the query answers the empty message ({@link TableQuery.Unknown}): the member
 * then forwards one write per request, as before.
 *
 * <p><b>Who may send it:</b> as for {@link Forward}, only what speaks Raft to the members.
 *
 * @param writes the writes, each parsed as {@link Forward#parse} parses one (an unreadable one is
 *     answered as unreadable, alone)
 */
public record ForwardBatch(List<Forward> writes) implements TableQuery {
    static final ByteString PREFIX = ByteString.copyFrom("holdfast/forward-batch\n", StandardCharsets.UTF_8);
    private static final ByteString ANSWERS = ByteString.copyFrom("answers\n", StandardCharsets.UTF_8);

    public ForwardBatch {
        writes = List.copyOf(writes);
    }

    @Override
    public ByteString wire() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            PREFIX.writeTo(out);
            for (Forward w : writes) {
                ByteString one = w.wire();
                out.writeInt(one.size());
                one.writeTo(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ByteString.copyFrom(bytes.toByteArray());
    }

    /**
     * The batch a message holds.
     *
     * @throws IllegalArgumentException if the lengths do not add up to the message
     */
    static ForwardBatch parse(ByteString content) {
        List<ByteString> parts = parts(content.substring(PREFIX.size()));
        List<Forward> writes = new ArrayList<>(parts.size());
        for (ByteString p : parts) {
            writes.add(
                    p.startsWith(Forward.PREFIX)
                            ? Forward.parse(p)
                            : new Forward(null, "a part of a forwarded batch that is not a forwarded write"));
        }
        return new ForwardBatch(writes);
    }

    /** Length-prefixed parts, back to back. */
    private static List<ByteString> parts(ByteString content) {
        byte[] all = content.toByteArray();
        ByteBuffer in = ByteBuffer.wrap(all);
        List<ByteString> parts = new ArrayList<>();
        while (in.hasRemaining()) {
            if (in.remaining() < 4) {
                throw new IllegalArgumentException("a forwarded batch cut short: " + in.remaining() + " bytes left");
            }
            int size = in.getInt();
            if (size < 0 || size > in.remaining()) {
                throw new IllegalArgumentException(
                        "a forwarded batch names a part of " + size + " bytes where " + in.remaining() + " are left");
            }
            int at = in.position();
            parts.add(ByteString.copyFrom(all, at, size));
            in.position(at + size);
        }
        return parts;
    }

    /** The leader's answers to a batch: one per write, in order, each {@link Forward.Answer}. */
    public record Answer(List<Forward.Answer> answers) {
        public Answer {
            answers = List.copyOf(answers);
        }

        /** This answer as the content of the query's reply. */
        public Message message() {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * Math.max(1, answers.size()));
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                ANSWERS.writeTo(out);
                for (Forward.Answer a : answers) {
                    ByteString one = a.message().getContent();
                    out.writeInt(one.size());
                    one.writeTo(out);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Message.valueOf(ByteString.copyFrom(bytes.toByteArray()));
        }

        /**
         * Each write's answer, as its single form ({@link Forward.Answer#parse} reads it); empty
         * when the leader's build does not know batches (it answered nothing).
         *
         * @throws IllegalArgumentException if the reply is not a batch's answer of {@code size}
         */
        public static Optional<List<ByteString>> parse(ByteString content, int size) {
            if (content.isEmpty()) {
                return Optional.empty();
            }
            if (!content.startsWith(ANSWERS)) {
                throw new IllegalArgumentException("a malformed answer to a forwarded batch");
            }
            List<ByteString> each = parts(content.substring(ANSWERS.size()));
            if (each.size() != size) {
                throw new IllegalArgumentException(
                        "the leader answered " + each.size() + " of " + size + " forwarded writes");
            }
            return Optional.of(each);
        }
    }
}
