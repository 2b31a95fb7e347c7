package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ReplyCodec}: every reply round-trips; the replies of protocol version 6 have pinned bytes. */
class ReplyCodecTest {
    private static byte[] write(Reply reply) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ReplyCodec.write(reply, new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    private static Reply read(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        Reply reply = ReplyCodec.read(in);
        assertThat(in.available()).as("every byte read").isZero();
        return reply;
    }

    @Test
    void everyReplyRoundTrips() throws IOException {
        for (Reply reply : List.of(
                new Reply.Ok(3),
                new Reply.Granted(7),
                new Reply.GrantedAll(List.of(1L, 2L)),
                Reply.Queued.INSTANCE,
                Reply.Busy.INSTANCE,
                new Reply.Written(4),
                new Reply.Failed(ErrorCode.CONFLICT, "k is at version 2, not 1", List.of(), 2),
                new Reply.Counted(-5, 9),
                new Reply.Transacted(false, List.of()),
                new Reply.Transacted(
                        true,
                        List.of(
                                new Reply.OpResult(2, null, 0),
                                new Reply.OpResult(3, new byte[] {1, 2}, 0),
                                new Reply.OpResult(4, new byte[0], 0),
                                new Reply.OpResult(5, null, Long.MIN_VALUE))))) {
            assertThat(read(write(reply))).as("%s", reply).isEqualTo(reply);
        }
    }

    @Test
    void theRepliesOfVersionSixHaveTheirBytes() throws IOException {
        HexFormat hex = HexFormat.of();
        assertThat(hex.formatHex(write(new Reply.Counted(-1, 2))))
                .isEqualTo("07" + "ffffffffffffffff" + "0000000000000002");
        Reply.Transacted t = new Reply.Transacted(
                true, List.of(new Reply.OpResult(1, new byte[] {9}, 0), new Reply.OpResult(0, null, 3)));
        String bytes = "08" + "01" + "0002" // succeeded, two results
                + "0000000000000001" + "00000001" + "09" + "0000000000000000" // version 1, value 09
                + "0000000000000000" + "ffffffff" + "0000000000000003"; // absent value, counter 3
        assertThat(hex.formatHex(write(t))).isEqualTo(bytes);
        assertThat(read(hex.parseHex(bytes))).isEqualTo(t);
    }

    @Test
    void aTransactionsAnswerOutOfBoundsIsRefused() {
        HexFormat hex = HexFormat.of();
        assertThatThrownBy(() -> read(hex.parseHex("08" + "01" + "ffff"))).isInstanceOf(SnapshotFormatException.class);
        assertThatThrownBy(() -> read(hex.parseHex("08" + "01" + "0001" + "0000000000000001" + "fffffffe")))
                .isInstanceOf(SnapshotFormatException.class);
    }
}
