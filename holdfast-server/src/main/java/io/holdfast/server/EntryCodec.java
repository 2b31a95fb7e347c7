package io.holdfast.server;

import io.holdfast.ErrorCode;
import io.holdfast.core.Command;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.CommandFormatException;
import io.holdfast.core.Reply;
import io.holdfast.core.ReplyCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One Raft log entry holds a batch of commands (many clients' requests share one write and one
 * fsync); its reply holds one reply per command, in the same order.
 *
 * <pre>
 * entry: count (int), then per command: length (int), {@link CommandCodec} bytes
 * reply: count (int), then per reply: {@link ReplyCodec} bytes
 * </pre>
 *
 * A damaged command inside an entry decodes to {@code null} (its reply is an error); a damaged
 * frame makes the whole entry decode to an empty list. Decoding never throws.
 */
final class EntryCodec {
    static final int MAX_BATCH = 100_000;

    private EntryCodec() {}

    static byte[] encodeCommands(List<byte[]> encodedCommands) {
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
     * The commands of an entry with their senders' identities; an element is null where a command
     * could not be decoded.
     */
    static List<Command.Authored> decodeCommands(byte[] entry) {
        List<Command.Authored> out = new ArrayList<>();
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
                try {
                    out.add(CommandCodec.decodeAuthored(command));
                } catch (CommandFormatException e) {
                    out.add(null);
                }
            }
        } catch (IOException e) {
            // truncated frame: what was read stands, the rest is missing
        }
        return out;
    }

    static byte[] encodeReplies(List<Reply> replies) {
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

    static List<Reply> decodeReplies(byte[] bytes, int expected) {
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
