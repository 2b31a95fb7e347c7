package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SnapshotCodecTest {
    private static final int HEADER = 12; // magic, version, body length

    private final TableDriver d = new TableDriver();
    private Command.Acquire queuedOnX;
    private Command.Acquire acquiredX;

    /** A table with something of everything the snapshot holds. */
    private void populate() {
        Client a = d.open("a");
        Client b = d.open("b", 3_000);
        Client c = d.open("c");
        Client e = d.open("e", 2_000);

        acquiredX = a.acquire("x").lease(2_000).command();
        long x = token(d.apply(acquiredX));
        queuedOnX = b.acquire("x").waitMillis(5_000).lease(1_000).command();
        d.apply(queuedOnX);
        token(c.acquire("y").shared().apply());
        token(a.acquire("y").shared().owner(2).apply());
        token(a.acquire("s").permits(2, 3).owner(4).apply());
        c.acquire("s").permits(2, 3).owner(4).waitMillis(8_000).apply();

        d.advance(250);
        token(e.acquire("delayed").apply());
        c.acquire("delayed").waitMillis(10_000).apply();
        d.expire(e); // "delayed" is lock-delayed for 2 s, with c waiting

        token(a.acquire("p").owner(3).apply());
        token(c.acquire("q").owner(2).apply());
        a.acquire("q").owner(3).waitMillis(9_000).apply();
        failed(c.acquire("p").owner(2).waitMillis(9_000).apply(), ErrorCode.DEADLOCK); // remembered

        a.set("k1", 0, "one".getBytes(StandardCharsets.UTF_8));
        a.set("k1", 1, "two".getBytes(StandardCharsets.UTF_8));
        failed(c.set("k1", 5, new byte[] {9}), ErrorCode.CONFLICT); // remembered
        c.set("k2", 0, new byte[0]);
        a.acknowledgeBelow(3); // forgets the replies to a's first two requests
        a.renew("x", x);
        d.advance(100);
        d.tick();
    }

    @Test
    void aRoundTripGivesIdenticalBytes() throws IOException {
        populate();
        byte[] bytes = d.snapshot();

        TableDriver copy = d.restored();

        assertThat(copy.snapshot()).isEqualTo(bytes);
        assertThat(copy.table().now()).isEqualTo(d.table().now());
        assertThat(copy.table().lastToken()).isEqualTo(d.table().lastToken());
        assertThat(copy.table().nextDeadline()).isEqualTo(d.table().nextDeadline());
        assertThat(copy.table().sessionIds()).isEqualTo(d.table().sessionIds());
        assertThat(copy.table().list("", 100, 0)).isEqualTo(d.table().list("", 100, 0));
        assertThat(copy.table().register("k1").orElseThrow().value()).isEqualTo("two".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anEmptyTableRoundTrips() throws IOException {
        byte[] bytes = d.snapshot();

        assertThat(d.restored().snapshot()).isEqualTo(bytes);
    }

    @Test
    void sessionsWithoutRememberedRepliesRoundTrip() throws IOException {
        d.open("fresh"); // opened, but no request yet: no remembered replies
        Client busy = d.open("busy");
        token(busy.acquire("x").apply());
        byte[] bytes = d.snapshot();

        TableDriver copy = d.restored();

        assertThat(copy.snapshot()).isEqualTo(bytes);
        assertThat(copy.table().sessionIds())
                .containsExactlyElementsOf(d.table().sessionIds());
    }

    @Test
    void aRestoredTableBehavesLikeTheOriginal() throws IOException {
        populate();
        TableDriver copy = d.restored();

        List<Object> original = script(d);
        List<Object> restored = script(copy);

        assertThat(restored).isEqualTo(original);
        assertThat(copy.snapshot()).isEqualTo(d.snapshot());
        // The script really did something: waiters timed out, leases expired, tokens moved on.
        assertThat(d.allEvents()).hasAtLeastOneElementOfType(Event.WaitTimedOut.class);
        assertThat(original).contains(new Reply.Granted(d.table().lastToken()));
    }

    /** Retries, fresh commands and ticks across every pending deadline; returns what happened. */
    private List<Object> script(TableDriver t) {
        List<Object> out = new ArrayList<>();
        Client a = t.client("a");
        Client c = t.client("c");
        record(t, out, t.apply(acquiredX)); // refused: already acknowledged
        record(t, out, t.apply(queuedOnX)); // answered from memory
        record(t, out, c.acquire("fresh").apply()); // the token counter continues
        for (long step = 0; step <= 12_000; step += 250) {
            record(t, out, t.tickAt(TableDriver.START + step));
        }
        record(t, out, t.apply(queuedOnX));
        record(t, out, a.acquire("x").apply());
        record(t, out, c.set("k1", 2, new byte[] {3}));
        return out;
    }

    private static void record(TableDriver t, List<Object> out, Reply reply) {
        out.add(reply);
        out.add(t.events());
        out.add(t.table().nextDeadline());
        out.add(t.table().lastToken());
    }

    // ---------------------------------------------------------------------------------- damage

    @Test
    void aCorruptByteIsCaughtByTheChecksum() {
        populate();
        byte[] bytes = d.snapshot();
        bytes[HEADER + (bytes.length - HEADER) / 2] ^= 0x10; // inside the body

        assertThatThrownBy(() -> read(bytes))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("checksum");
    }

    @Test
    void aCorruptChecksumIsCaught() {
        populate();
        byte[] bytes = d.snapshot();
        bytes[bytes.length - 1] ^= 0x01;

        assertThatThrownBy(() -> read(bytes))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("checksum");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 4, 8, 11, 12, 40, -4, -1})
    void aTruncatedSnapshotIsRefused(int cut) {
        populate();
        byte[] bytes = d.snapshot();
        byte[] truncated = Arrays.copyOf(bytes, cut >= 0 ? cut : bytes.length + cut);

        assertThatThrownBy(() -> read(truncated))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("truncated");
    }

    @Test
    void aFileThatIsNoSnapshotIsRefused() {
        byte[] bytes = d.snapshot();
        bytes[0] = 'X';

        assertThatThrownBy(() -> read(bytes))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("magic");
    }

    @Test
    void aSnapshotOfFormatTwoWithoutTheMembersVersionsIsStillRead() throws Exception {
        byte[] three = d.snapshot(); // no member has reported: the last section is a count of 0
        ByteBuffer in = ByteBuffer.wrap(three);
        int length = in.getInt(8);
        byte[] body = Arrays.copyOfRange(three, 12, 12 + length - 4);
        assertThat(Arrays.copyOfRange(three, 12 + length - 4, 12 + length)).containsOnly(0);
        CRC32C crc = new CRC32C();
        crc.update(body);
        ByteBuffer two = ByteBuffer.allocate(16 + body.length);
        two.putInt(SnapshotCodec.MAGIC).putInt(2).putInt(body.length).put(body).putInt((int) crc.getValue());

        LockTable table = read(two.array());
        java.io.ByteArrayOutputStream again = new java.io.ByteArrayOutputStream();
        table.writeSnapshot(again);
        assertThat(again.toByteArray()).isEqualTo(three);
    }

    /**
     * Format 6, pinned: one session (seq 1 remembered as written), one key attached to it with a
     * time to live; the key lifetimes follow the (empty) revoked tokens. A later build must read
     * these bytes; this one writes them so.
     */
    @Test
    void formatSixHasItsPinnedBytes() throws Exception {
        LockTable table = new LockTable();
        String id = "session-k-0123456789";
        table.apply(Command.Envelope.of(1_000, new Command.OpenSession(id, "c", 10_000, 0)), EventSink.NONE);
        table.apply(
                Command.Envelope.of(
                        1_000,
                        new RegisterSet(
                                new Command.Invocation(id, 1, 0), "k", 0, new byte[] {7}, null, 0, true, true, 2_000)),
                EventSink.NONE);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        table.writeSnapshot(out);
        String hex = java.util.HexFormat.of().formatHex(out.toByteArray());
        assertThat(hex).isEqualTo(FORMAT_SIX);
        LockTable back = read(java.util.HexFormat.of().parseHex(FORMAT_SIX));
        assertThat(back.key("k").orElseThrow())
                .isEqualTo(new io.holdfast.model.KeyPage.Entry("k", 1, new byte[] {7}, id, 3_000));
        assertThat(back.nextDeadline()).isEqualTo(3_000);
    }

    private static final String FORMAT_SIX = "4846534e00000006000000aa" // magic, format 6, body length
            + "00000000000003e80000000000000000" // now 1000, last token 0
            + "00000001001473657373696f6e2d6b2d30313233343536373839" // one session: its id,
            + "000001630000000000002710000000000000000000000000000003e8" // no identity, "c", ttl, delay, opened
            + "0000000000000000000000010000000000000001040000000000000001" // acked below 0; seq 1: Written(1)
            + "00000000" // no locks
            + "0000000100016b00000000000000010000000107" // one register: k, version 1, value 07
            + "000000000000000000" // no access rules, no member versions, no revoked tokens
            + "0000000100016b01001473657373696f6e2d6b2d303132333435363738390000000000000bb8" // k: owner, at 3000
            + "2141b88e"; // CRC32C

    /**
     * Format 7, pinned: an empty table whose quotas while access control is off are not the
     * defaults; they follow the (empty) key lifetimes, by name. A later build must read these
     * bytes; this one writes them so.
     */
    @Test
    void formatSevenHasItsPinnedBytes() throws Exception {
        LockTable table = new LockTable();
        table.apply(
                Command.Envelope.of(1_000, new Command.SetQuotas(java.util.Map.of("sessions-per-identity", 3L))),
                EventSink.NONE);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        table.writeSnapshot(out);
        String hex = java.util.HexFormat.of().formatHex(out.toByteArray());
        assertThat(hex).isEqualTo(FORMAT_SEVEN);
        LockTable back = read(java.util.HexFormat.of().parseHex(FORMAT_SEVEN));
        assertThat(back.quotas().sessionsPerIdentity()).isEqualTo(3);
        assertThat(back.quotas().holdsPerSession()).isEqualTo(Quotas.DEFAULTS.holdsPerSession());
    }

    private static final String FORMAT_SEVEN = "4846534e0000000700000049" // magic, format 7, body length (73)
            + "00000000000003e80000000000000000" // now 1000, last token 0
            + "00000000" + "00000000" + "00000000" // no sessions, no locks, no registers
            + "00" + "00000000" + "00000000" + "00000000" // no rules, member versions, revoked tokens, key lifetimes
            + "01" + "001573657373696f6e732d7065722d6964656e74697479" + "0000000000000003" // sessions-per-identity 3
            + "c67545e5"; // CRC32C

    /**
     * Session ids kept as bits ({@link CompactId}) and as text, written by a build that kept them all
     * as strings (93e642c, format 3): one that fits, one whose last character has spare bits set
     * (the same 16 bytes to a Base64 decoder, another session here), and the all-zero one, holding
     * "x". This build reads the same sessions and writes the same bytes.
     */
    @Test
    void idsKeptAsBitsReadAndWriteAsTheyWereWritten() throws Exception {
        LockTable back = read(java.util.HexFormat.of().parseHex(STRING_IDS));
        assertThat(back.sessionIds())
                .containsExactly("AAAAAAAAAAAAAAAAAAAAAA", "Zm9yLWhvbGRmYXN0LTY5IQ", "Zm9yLWhvbGRmYXN0LTY5IR");
        assertThat(back.describe("x", 1_000).orElseThrow().holders().get(0).sessionId())
                .isEqualTo("Zm9yLWhvbGRmYXN0LTY5IQ");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        back.writeSnapshot(out);
        assertThat(java.util.HexFormat.of().formatHex(out.toByteArray())).isEqualTo(STRING_IDS);
        List<Event> events = new ArrayList<>();
        back.apply(1_000, new Command.ExpireSession("Zm9yLWhvbGRmYXN0LTY5IQ"), events::add);
        assertThat(events).contains(new Event.SessionExpired("Zm9yLWhvbGRmYXN0LTY5IQ"));
        assertThat(back.sessionIds()).containsExactly("AAAAAAAAAAAAAAAAAAAAAA", "Zm9yLWhvbGRmYXN0LTY5IR");
    }

    private static final String STRING_IDS = "4846534e0000000300000166" // magic, format 3, body length
            + "00000000000003e80000000000000001" // now 1000, last token 1
            + "00000003" // three sessions, sorted by id
            + "001641414141414141414141414141414141414141414141000006776f726b65720000000000002710000000"
            + "000000000000000000000003e8000000000000000000000000" // AAAAAAAAAAAAAAAAAAAAAA, no identity, "worker",
            // ttl, delay, opened, no reply
            + "00165a6d39794c5768766247526d59584e304c5459354951000006776f726b65720000000000002710000000"
            + "000000000000000000000003e800000000000000000000000100000000000000010100000000000000010000"
            + "0001" // Zm9yLWhvbGRmYXN0LTY5IQ, the same, one reply: seq 1, Granted(1)
            + "00165a6d39794c5768766247526d59584e304c5459354952000006776f726b65720000000000002710000000"
            + "000000000000000000000003e8000000000000000000000000" // Zm9yLWhvbGRmYXN0LTY5IR, the same, no reply
            + "00000001000178000000000100000000000000000000000100165a6d39794c5768766247526d59584e304c54"
            + "5935495100000000000000010000000000000001000000000100000000000003e800000000000000007fffff"
            + "ffffffffff0000000100000000000000000000000000" // one lock, x, held by ...IQ with token 1, no registers,
            // rules, member versions
            + "6592f2a4"; // CRC32C

    @Test
    void anUnknownFormatVersionIsNamed() {
        byte[] bytes = d.snapshot();
        ByteBuffer.wrap(bytes).putInt(4, SnapshotCodec.VERSION + 1);

        assertThatThrownBy(() -> read(bytes))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("version " + (SnapshotCodec.VERSION + 1))
                .hasMessageContaining("not supported");
    }

    @Test
    void aWellSealedButInconsistentBodyIsRefusedWhole() {
        Client a = d.open("a");
        token(a.acquire("x").apply());
        byte[] id = a.id.getBytes(StandardCharsets.UTF_8);
        // The holder of x refers to its session by id; point it at a session that does not exist.
        byte[] bytes = reseal(d.snapshot(), body -> {
            int at = lastIndexOf(body, id);
            body[at] = 'S';
            return body;
        });

        assertThatThrownBy(() -> read(bytes))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("unknown session");
    }

    @Test
    void trailingBytesInsideTheBodyAreRefused() {
        populate();
        byte[] bytes = reseal(d.snapshot(), body -> Arrays.copyOf(body, body.length + 3));

        assertThatThrownBy(() -> read(bytes))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("unexpected bytes");
    }

    private static LockTable read(byte[] bytes) throws IOException {
        return LockTable.readSnapshot(new ByteArrayInputStream(bytes));
    }

    /** Edits the body of a snapshot and writes a correct length and checksum around it. */
    private static byte[] reseal(byte[] snapshot, UnaryOperator<byte[]> edit) {
        ByteBuffer in = ByteBuffer.wrap(snapshot);
        int magic = in.getInt();
        int version = in.getInt();
        byte[] body = new byte[in.getInt()];
        in.get(body);
        body = edit.apply(body);
        CRC32C crc = new CRC32C();
        crc.update(body);
        return ByteBuffer.allocate(HEADER + body.length + 4)
                .putInt(magic)
                .putInt(version)
                .putInt(body.length)
                .put(body)
                .putInt((int) crc.getValue())
                .array();
    }

    private static int lastIndexOf(byte[] haystack, byte[] needle) {
        for (int i = haystack.length - needle.length; i >= 0; i--) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    /**
     * A snapshot written by an older build whose table held a reentrant grant (one owner's two
     * acquires of "x", hold count 2), as that build printed it: this build has no such grants, so
     * it refuses the snapshot with one line that says why, instead of restoring a different table.
     */
    @Test
    void anOlderSnapshotWithAReentrantGrantIsRefused() {
        byte[] bytes = java.util.HexFormat.of()
                .parseHex(
                        "4846534e00000003000000cf00000000000003e8000000000000000100000001001273657373696f6e2d303132333435"
                                + "36373839000001630000000000002710000000000000000000000000000003e800000000000000020000000100000000"
                                + "000000020100000000000000010000000200000001000178000000000100000000000000000000000100127365737369"
                                + "6f6e2d3031323334353637383900000000000000010000000000000001000000000100000000000003e8000000000000"
                                + "00007fffffffffffffff0000000200000000000000000000000000b770b013");
        assertThatThrownBy(() -> read(bytes))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("hold count of 2")
                .hasMessageContaining("reentrant");
    }
}
