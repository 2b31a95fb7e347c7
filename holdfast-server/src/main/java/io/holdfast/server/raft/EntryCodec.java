package io.holdfast.server.raft;

import io.holdfast.ErrorCode;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.CommandFormatException;
import io.holdfast.core.ReplyCodec;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * One Raft log entry holds a batch of commands (many clients' requests share one write and one
 * fsync); its reply holds one reply per command, in the same order.
 *
 * <pre>
 * entry: count (int), then per command: length (int), {@link CommandCodec} bytes
 * reply: count (int), then per reply: {@link ReplyCodec} bytes
 * </pre>
 *
 * A damaged command inside an entry decodes to {@code null} (its reply is an error, alike on every
 * replica); a damaged frame makes the whole entry decode to an empty list. The one exception is a
 * command of a kind this build does not know ({@link UnknownCommandKind}): a newer build can read
 * it, so answering it with an error here would make replicas differ; the leader refuses to log
 * such an entry ({@link #unknownKind}) and a replica that meets one stops.
 */
public final class EntryCodec {
    static final int MAX_BATCH = 100_000;

    private EntryCodec() {}

    public static byte[] encodeCommands(List<byte[]> encodedCommands) {
        int size = 4;
        for (byte[] c : encodedCommands) {
            size += 4 + c.length;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(encodedCommands.size());
            for (byte[] c : encodedCommands) {
                out.writeInt(c.length);
                out.write(c);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * An entry holds a command of a kind this build does not know: one written by a newer build.
     * Applying the entry without it would make this replica differ from those that know it, so the
     * replica must not apply it at all.
     */
    static final class UnknownCommandKind extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnknownCommandKind(int position, String message) {
            super("command " + position + " of the entry: " + message);
        }
    }

    /**
     * Why the entry must not be logged, or null: a command of a kind this build does not know, or
     * one that {@code refusal} refuses by its type (the cluster's version). Checked on the format
     * and type fields only, so cheap enough for every entry the leader logs. A well-formed frame
     * is not checked further; damage inside a known command is answered with an error at apply,
     * alike on every replica.
     *
     * @param refusal why a command of the given type must not be logged, or null
     */
    static String refusal(byte[] entry, IntFunction<String> refusal) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
            int count = in.readInt();
            if (count < 0 || count > MAX_BATCH) {
                return "the entry's command count " + count + " is out of bounds";
            }
            for (int i = 0; i < count; i++) {
                int length = in.readInt();
                if (length < 0 || length > in.available()) {
                    return "command " + i + " of the entry is truncated";
                }
                int type = CommandCodec.type(in.readNBytes(length));
                if (type < 1) {
                    return "command " + i + " of the entry is of a kind this build does not know";
                }
                String why = refusal.apply(type);
                if (why != null) {
                    return "command " + i + " of the entry " + why;
                }
            }
            return null;
        } catch (IOException e) {
            return "the entry is truncated";
        }
    }

    /** {@link #refusal} by this build's vocabulary alone: a kind it does not know. */
    public static String unknownKind(byte[] entry) {
        return refusal(entry, type -> Vocabulary.CURRENT.knows(type) ? null : "is of a kind this build does not know");
    }

    /**
     * The commands of an entry with their senders' identities; an element is null where a command
     * could not be decoded.
     *
     * @throws UnknownCommandKind if a command is of a kind this build does not know
     */
    static List<Command.Envelope> decodeCommands(byte[] entry) {
        return decodeCommands(entry, Vocabulary.CURRENT);
    }

    /**
     * As {@link #decodeCommands(byte[])}, for a build that speaks {@code vocabulary}: a command of
     * a type it does not know is {@link UnknownCommandKind} even where the codec could read it.
     */
    static List<Command.Envelope> decodeCommands(byte[] entry, Vocabulary vocabulary) {
        List<Command.Envelope> out = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
            int count = in.readInt();
            if (count < 0 || count > MAX_BATCH) {
                return out;
            }
            for (int i = 0; i < count; i++) {
                int length = in.readInt();
                if (length < 0 || length > in.available()) {
                    out.add(null);
                    return out;
                }
                byte[] command = in.readNBytes(length);
                int type = CommandCodec.type(command);
                if (type > 0 && !vocabulary.knows(type)) {
                    throw new UnknownCommandKind(i, "unknown command type " + type);
                }
                try {
                    out.add(CommandCodec.decodeEnvelope(command));
                } catch (CommandFormatException e) {
                    if (e.unknownKind()) {
                        throw new UnknownCommandKind(i, e.getMessage());
                    }
                    out.add(null);
                }
            }
        } catch (IOException e) {
            // truncated frame: what was read stands, the rest is missing
        }
        return out;
    }

    /** An entry's answer: one reply per command, in the entry's order (what {@link #decodeReplies} reads). */
    public static byte[] encodeReplies(List<Reply> replies) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + replies.size() * 16);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(replies.size());
            for (Reply r : replies) {
                ReplyCodec.write(r, out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static List<Reply> decodeReplies(byte[] bytes, int expected) {
        List<Reply> out = new ArrayList<>(expected);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                out.add(ReplyCodec.read(in));
            }
        } catch (IOException e) {
            // fall through: missing replies are filled below
        }
        while (out.size() < expected) {
            out.add(Reply.Failed.of(ErrorCode.UNAVAILABLE, "the reply to this command was lost"));
        }
        return out;
    }
}
