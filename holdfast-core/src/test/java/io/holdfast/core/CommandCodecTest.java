package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.LockMode;
import io.holdfast.PutOptions.Lifetime;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Transaction;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CommandCodecTest {
    private static final Invocation INV = new Invocation("session-0123456789", 7, 5);

    /** One envelope of every command type, each at its own time. */
    static List<Command.Envelope> samples() {
        return List.of(
                Command.Envelope.of(1, new Command.OpenSession("session-0123456789", "me@host:1", 10_000, 500)),
                Command.Envelope.of(2, new Command.KeepAlive("session-0123456789")),
                Command.Envelope.of(3, new Command.CloseSession(INV)),
                Command.Envelope.of(4, new Command.ExpireSession("session-0123456789")),
                Command.Envelope.of(5, new Command.Acquire(INV, "orders/42", LockMode.SHARED, 1, 1, 99, 3000, 0)),
                Command.Envelope.of(5, new Command.Acquire(INV, "slots", LockMode.PERMITS, 2, 4, -1, 0, 250)),
                Command.Envelope.of(6, new Command.Release(INV, "orders/42", 12)),
                Command.Envelope.of(7, new Command.Renew(INV, "orders/42", 12)),
                Command.Envelope.of(8, new Command.CancelWait(INV, "orders/42", 6)),
                Command.Envelope.of(9, new Command.Tick()),
                Command.Envelope.of(
                        10, new RegisterSet(INV, "reg", 3, new byte[] {1, 2, 3}, "orders/42", 12).withAnyFence()),
                Command.Envelope.of(10, new RegisterSet(INV, "reg", 0, new byte[0], null, 0).withAnyFence()),
                Command.Envelope.of(11, new Command.Revoke("orders/42")),
                Command.Envelope.of(12, new Command.SetAccessRules("user alice r\nrole r admin *")),
                Command.Envelope.of(12, new Command.SetAccessRules(null)),
                Command.Envelope.of(13, new Command.ReportVersion("n1", 1)),
                Command.Envelope.of(
                        14,
                        new Command.AcquireAll(
                                INV, java.util.List.of("orders/1", "orders/2"), LockMode.SHARED, 7, 1_000, 30_000)),
                Command.Envelope.of(15, new Command.EndSession("session-0123456789")),
                Command.Envelope.of(16, new RegisterSet(INV, "reg", 3, new byte[] {1, 2, 3}, "orders/42", 12)),
                Command.Envelope.of(16, new RegisterSet(INV, "reg", 0, new byte[0], null, 0)),
                Command.Envelope.of(17, new Command.RevokeToken("0b6c1a9e-jti", 86_400_000)),
                Command.Envelope.of(18, new RegisterSet(INV, "svc/a", 0, new byte[] {1}, null, 0, true, true, 0)),
                Command.Envelope.of(
                        18, new RegisterSet(INV, "cfg", 2, new byte[0], "orders/42", 12, true, false, 5_000)),
                Command.Envelope.of(19, new KeyDelete(INV, "svc/a", KeyDelete.ANY_VERSION)),
                Command.Envelope.of(20, new CounterAdd(INV, "hits", -3)),
                Command.Envelope.of(21, sampleTransaction()),
                Command.Envelope.of(22, new Command.SetQuotas(java.util.Map.of("sessions-per-identity", 200_000L))),
                Command.Envelope.of(22, new Command.SetQuotas(java.util.Map.of())),
                Command.Envelope.of(
                        23, new RegisterSet(INV, "svc/a", 1, new byte[] {2}, "orders/42", 12, true, Lifetime.KEEP, 0)),
                Command.Envelope.of(24, keepingTransaction()),
                Command.Envelope.of(25, new KeyDeletePrefix(INV, "svc/", 1_000)),
                Command.Envelope.of(26, leasingTransaction()));
    }

    /** A transaction with a put on a lease and one that keeps its key's lifetime: type 26. */
    static Transaction leasingTransaction() {
        return new Transaction(
                INV,
                List.of(),
                List.of(
                        new Transaction.Op.Put("a", KeyDelete.ANY_VERSION, new byte[] {1}, Lifetime.ATTACH, 0, LEASE),
                        new Transaction.Op.Put("b", 0, new byte[0], Lifetime.KEEP, 0)),
                List.of());
    }

    private static final String LEASE = "lease-0123456789ab";

    /** A transaction whose puts keep, attach and detach their keys: type 24. */
    static Transaction keepingTransaction() {
        return new Transaction(
                INV,
                List.of(new Transaction.Compare.Absent("c")),
                List.of(
                        new Transaction.Op.Put("a", 1, new byte[] {1}, Lifetime.KEEP, 0),
                        new Transaction.Op.Put("b", KeyDelete.ANY_VERSION, new byte[0], Lifetime.ATTACH, 2_000),
                        new Transaction.Op.Put("c", 0, new byte[] {3}, Lifetime.DETACH, 0)),
                List.of(new Transaction.Op.Put("a", KeyDelete.ANY_VERSION, new byte[] {4}, Lifetime.KEEP, 0)));
    }

    /** A transaction with every kind of compare and op. */
    static Transaction sampleTransaction() {
        return new Transaction(
                INV,
                List.of(
                        new Transaction.Compare.Version("a", Transaction.Order.GREATER, 1),
                        new Transaction.Compare.Value("a", new byte[] {5}),
                        new Transaction.Compare.Absent("b"),
                        new Transaction.Compare.Fence("orders/42", 12),
                        new Transaction.Compare.Holder("orders/42", "session-0123456789"),
                        new Transaction.Compare.SessionAlive("session-0123456789")),
                List.of(
                        new Transaction.Op.Put("b", KeyDelete.ANY_VERSION, new byte[] {5}, true, 2_000),
                        new Transaction.Op.Delete("a", 3),
                        new Transaction.Op.Add("n", 1),
                        new Transaction.Op.Get("b")),
                List.of(new Transaction.Op.Get("a")));
    }

    /**
     * What the builds whose commands carried their own time wrote for {@link #samples()}, printed
     * by that build's codec (without and with the identity "someone"; the fifth sample's last
     * byte, {@code reentrant}, is 0 as those builds wrote it for every Holdfast client). Time moved into the
     * envelope in memory only: not a byte of the log format changed, so old logs and snapshots
     * read unchanged and members of both builds read each other's entries.
     */
    private static final List<String> BYTES_BEFORE_THE_ENVELOPE = List.of(
            "01010000000000000001001273657373696f6e2d3031323334353637383900096d6540686f73743a31000000000000271000000000000001f4",
            "01020000000000000002001273657373696f6e2d30313233343536373839",
            "01030000000000000003001273657373696f6e2d3031323334353637383900000000000000070000000000000005",
            "01040000000000000004001273657373696f6e2d30313233343536373839",
            "01050000000000000005001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f343201000000010000000100000000000000630000000000000bb8000000000000000000",
            "01050000000000000005001273657373696f6e2d30313233343536373839000000000000000700000000000000050005736c6f7473020000000200000004ffffffffffffffff000000000000000000000000000000fa00",
            "01060000000000000006001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f3432000000000000000c",
            "01070000000000000007001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f3432000000000000000c",
            "01080000000000000008001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f34320000000000000006",
            "01090000000000000009",
            "010a000000000000000a001273657373696f6e2d303132333435363738390000000000000007000000000000000500037265670000000000000003000000030102030100096f72646572732f3432000000000000000c",
            "010a000000000000000a001273657373696f6e2d30313233343536373839000000000000000700000000000000050003726567000000000000000000000000000000000000000000",
            "010b000000000000000b00096f72646572732f3432",
            "010c000000000000000c010000001b7573657220616c69636520720a726f6c6520722061646d696e202a",
            "010c000000000000000c00",
            "010d000000000000000d00026e3100000001",
            "010e000000000000000e001273657373696f6e2d3031323334353637383900000000000000070000000000000005000200086f72646572732f3100086f72646572732f3201000000000000000700000000000003e80000000000007530");

    private static final List<String> SIGNED_BYTES_BEFORE_THE_ENVELOPE = List.of(
            "020007736f6d656f6e65010000000000000001001273657373696f6e2d3031323334353637383900096d6540686f73743a31000000000000271000000000000001f4",
            "020007736f6d656f6e65020000000000000002001273657373696f6e2d30313233343536373839",
            "020007736f6d656f6e65030000000000000003001273657373696f6e2d3031323334353637383900000000000000070000000000000005",
            "020007736f6d656f6e65040000000000000004001273657373696f6e2d30313233343536373839",
            "020007736f6d656f6e65050000000000000005001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f343201000000010000000100000000000000630000000000000bb8000000000000000000",
            "020007736f6d656f6e65050000000000000005001273657373696f6e2d30313233343536373839000000000000000700000000000000050005736c6f7473020000000200000004ffffffffffffffff000000000000000000000000000000fa00",
            "020007736f6d656f6e65060000000000000006001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f3432000000000000000c",
            "020007736f6d656f6e65070000000000000007001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f3432000000000000000c",
            "020007736f6d656f6e65080000000000000008001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f34320000000000000006",
            "020007736f6d656f6e65090000000000000009",
            "020007736f6d656f6e650a000000000000000a001273657373696f6e2d303132333435363738390000000000000007000000000000000500037265670000000000000003000000030102030100096f72646572732f3432000000000000000c",
            "020007736f6d656f6e650a000000000000000a001273657373696f6e2d30313233343536373839000000000000000700000000000000050003726567000000000000000000000000000000000000000000",
            "020007736f6d656f6e650b000000000000000b00096f72646572732f3432",
            "020007736f6d656f6e650c000000000000000c010000001b7573657220616c69636520720a726f6c6520722061646d696e202a",
            "020007736f6d656f6e650c000000000000000c00",
            "020007736f6d656f6e650d000000000000000d00026e3100000001",
            "020007736f6d656f6e650e000000000000000e001273657373696f6e2d3031323334353637383900000000000000070000000000000005000200086f72646572732f3100086f72646572732f3201000000000000000700000000000003e80000000000007530");

    @Test
    void theBytesAreThoseOfTheBuildsWhoseCommandsCarriedTheirTime() throws Exception {
        List<Command.Envelope> samples = samples();
        java.util.HexFormat hex = java.util.HexFormat.of();
        for (int i = 0; i < BYTES_BEFORE_THE_ENVELOPE.size(); i++) { // the commands those builds had
            Command.Envelope e = samples.get(i);
            Command.Envelope signed = new Command.Envelope(e.time(), "someone", e.command());
            assertThat(hex.formatHex(CommandCodec.encode(e))).isEqualTo(BYTES_BEFORE_THE_ENVELOPE.get(i));
            assertThat(hex.formatHex(CommandCodec.encode(signed))).isEqualTo(SIGNED_BYTES_BEFORE_THE_ENVELOPE.get(i));
            assertThat(CommandCodec.decodeEnvelope(hex.parseHex(BYTES_BEFORE_THE_ENVELOPE.get(i))))
                    .isEqualTo(e);
            assertThat(CommandCodec.decodeEnvelope(hex.parseHex(SIGNED_BYTES_BEFORE_THE_ENVELOPE.get(i))))
                    .isEqualTo(signed);
        }
    }

    /**
     * The bytes of protocol version 3's command, pinned: a later build must read what this one
     * logged. The type byte is 15; the rest is the session id.
     */
    @Test
    void anEndSessionHasTheBytesOfItsVersion() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        Command.Envelope end = Command.Envelope.of(15, new Command.EndSession("session-0123456789"));
        String bytes = "010f000000000000000f001273657373696f6e2d30313233343536373839";
        assertThat(hex.formatHex(CommandCodec.encode(end))).isEqualTo(bytes);
        assertThat(CommandCodec.decodeEnvelope(hex.parseHex(bytes))).isEqualTo(end);
        assertThat(Vocabulary.CURRENT.since(CommandCodec.Type.END_SESSION.code)).isEqualTo(3);
        assertThat(Vocabulary.CURRENT.atVersion(2).knows(CommandCodec.Type.END_SESSION.code))
                .isFalse();
    }

    /**
     * The bytes of protocol version 4's command, pinned: a register write whose fence must be the
     * writer's own is type 16 with exactly the fields of type 10, and decodes with {@code
     * ownFence} set; the same write as type 10 decodes without it, as every older entry does.
     */
    @Test
    void aRegisterWriteOfTheWritersOwnFenceHasTheBytesOfItsVersion() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        RegisterSet own = new RegisterSet(INV, "reg", 3, new byte[] {1, 2, 3}, "orders/42", 12);
        assertThat(own.ownFence()).isTrue();
        Command.Envelope e = Command.Envelope.of(16, own);
        String fields =
                "001273657373696f6e2d303132333435363738390000000000000007000000000000000500037265670000000000000003"
                        + "000000030102030100096f72646572732f3432000000000000000c";
        String bytes = "0110" + "0000000000000010" + fields;
        assertThat(hex.formatHex(CommandCodec.encode(e))).isEqualTo(bytes);
        assertThat(CommandCodec.decodeEnvelope(hex.parseHex(bytes))).isEqualTo(e);
        assertThat(CommandCodec.typeOf(own)).isEqualTo(16);

        String typeTen = "010a" + "0000000000000010" + fields;
        RegisterSet old = (RegisterSet) CommandCodec.decode(hex.parseHex(typeTen));
        assertThat(old.ownFence()).isFalse();
        assertThat(old).isEqualTo(own.withAnyFence()).isNotEqualTo(own);
        assertThat(hex.formatHex(CommandCodec.encode(Command.Envelope.of(16, own.withAnyFence()))))
                .isEqualTo(typeTen);

        assertThat(Vocabulary.VERSION).isGreaterThanOrEqualTo(4);
        assertThat(Vocabulary.CURRENT.since(CommandCodec.Type.REGISTER_SET_OWN_FENCE.code))
                .isEqualTo(4);
        assertThat(Vocabulary.CURRENT.since(CommandCodec.Type.REGISTER_SET.code))
                .isEqualTo(1);
        assertThat(Vocabulary.CURRENT.atVersion(3).knows(16)).isFalse();
    }

    /** A token on the deny list: command type 17 of protocol version 5, its id and how long it is kept. */
    @Test
    void aRevokedTokenHasTheBytesOfVersionFive() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        Command.Envelope e = new Command.Envelope(17, "ops", new Command.RevokeToken("j-1", 90_000));
        String bytes = "020003" + "6f7073" + "11" + "0000000000000011" + "0003" + "6a2d31" + "0000000000015f90";
        assertThat(hex.formatHex(CommandCodec.encode(e))).isEqualTo(bytes);
        assertThat(CommandCodec.decodeEnvelope(hex.parseHex(bytes))).isEqualTo(e);
        assertThat(Vocabulary.CURRENT.since(17)).isEqualTo(5);
        assertThat(Vocabulary.CURRENT.atVersion(4).knows(17)).isFalse();
    }

    /**
     * The bytes of protocol version 6's commands, pinned: a write that attaches its key or gives it
     * a time to live is type 18 with the fields of type 16 then attach and the time to live; a
     * plain write stays type 16 or 10, byte for byte; a delete is 19, a counter add 20, a
     * transaction 21. None of them is known to a build of version 5.
     */
    @Test
    void theKeyCommandsHaveTheBytesOfVersionSix() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        String inv = "001273657373696f6e2d3031323334353637383900000000000000070000000000000005";
        RegisterSet attached = new RegisterSet(INV, "k", 0, new byte[] {1}, null, 0, true, true, 0);
        String put = "0112" + "0000000000000001" + inv + "00016b" + "0000000000000000" + "0000000101" + "00"
                + "0000000000000000" + "01" + "0000000000000000";
        assertThat(hex.formatHex(CommandCodec.encode(1, attached))).isEqualTo(put);
        assertThat(CommandCodec.decode(hex.parseHex(put))).isEqualTo(attached);
        RegisterSet plain = new RegisterSet(INV, "k", 0, new byte[] {1}, null, 0);
        assertThat(CommandCodec.typeOf(plain)).isEqualTo(16);
        assertThatThrownBy(() -> CommandCodec.encode(1, attached.withAnyFence()))
                .isInstanceOf(io.holdfast.InvalidArgumentException.class);

        String delete = "0113" + "0000000000000001" + inv + "00016b" + "ffffffffffffffff";
        KeyDelete del = new KeyDelete(INV, "k", KeyDelete.ANY_VERSION);
        assertThat(hex.formatHex(CommandCodec.encode(1, del))).isEqualTo(delete);
        assertThat(CommandCodec.decode(hex.parseHex(delete))).isEqualTo(del);

        String add = "0114" + "0000000000000001" + inv + "00016b" + "fffffffffffffffd";
        CounterAdd counter = new CounterAdd(INV, "k", -3);
        assertThat(hex.formatHex(CommandCodec.encode(1, counter))).isEqualTo(add);
        assertThat(CommandCodec.decode(hex.parseHex(add))).isEqualTo(counter);

        Transaction txn = new Transaction(
                INV,
                List.of(new Transaction.Compare.Version("k", Transaction.Order.EQUAL, 2)),
                List.of(new Transaction.Op.Delete("k", 2)),
                List.of(new Transaction.Op.Get("k")));
        String transaction = "0115" + "0000000000000001" + inv + "0001" + "01" + "00016b" + "00" + "0000000000000002"
                + "0001" + "02" + "00016b" + "0000000000000002" + "0001" + "04" + "00016b";
        assertThat(hex.formatHex(CommandCodec.encode(1, txn))).isEqualTo(transaction);
        assertThat(CommandCodec.decode(hex.parseHex(transaction))).isEqualTo(txn);

        assertThat(Vocabulary.VERSION).isGreaterThanOrEqualTo(6);
        for (int type = 18; type <= 21; type++) {
            assertThat(Vocabulary.CURRENT.since(type)).isEqualTo(6);
            assertThat(Vocabulary.CURRENT.atVersion(5).knows(type)).isFalse();
        }
    }

    /**
     * The bytes of protocol version 8's commands, pinned: a write that keeps its key's lifetime is
     * type 23 with the fields of type 16; a transaction with a put that keeps is 24, each put's
     * attach byte its lifetime (0 keep, 1 attach, 2 detach); one without is 21 as before, and a
     * plain write of type 16 still detaches. A build of version 7 knows neither.
     */
    @Test
    void thePutsThatKeepTheirLifetimeHaveTheBytesOfVersionEight() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        String inv = "001273657373696f6e2d3031323334353637383900000000000000070000000000000005";
        RegisterSet kept = new RegisterSet(INV, "k", 0, new byte[] {1}, null, 0, true, Lifetime.KEEP, 0);
        String put = "0117" + "0000000000000001" + inv + "00016b" + "0000000000000000" + "0000000101" + "00"
                + "0000000000000000";
        assertThat(hex.formatHex(CommandCodec.encode(1, kept))).isEqualTo(put);
        assertThat(CommandCodec.decode(hex.parseHex(put))).isEqualTo(kept);
        assertThat(CommandCodec.decode(hex.parseHex("0110" + put.substring(4))))
                .as("the same fields as type 16, which detaches")
                .isEqualTo(kept.withLifetime(Lifetime.DETACH));
        assertThatThrownBy(() -> CommandCodec.encode(1, kept.withAnyFence()))
                .isInstanceOf(io.holdfast.InvalidArgumentException.class);

        Transaction txn = new Transaction(
                INV, List.of(), List.of(new Transaction.Op.Put("k", 0, new byte[] {1}, Lifetime.KEEP, 0)), List.of());
        String keeping = "0118" + "0000000000000001" + inv + "0000" + "0001" + "01" + "00016b" + "0000000000000000"
                + "0000000101" + "00" + "0000000000000000" + "0000";
        assertThat(hex.formatHex(CommandCodec.encode(1, txn))).isEqualTo(keeping);
        assertThat(CommandCodec.decode(hex.parseHex(keeping))).isEqualTo(txn);
        assertThat(CommandCodec.typeOf(txn.withoutKeeping())).isEqualTo(21);
        assertThatThrownBy(() -> CommandCodec.decode(hex.parseHex(keeping.replace(
                        "0000000101" + "00" + "0000000000000000" + "0000",
                        "0000000101" + "07" + "0000000000000000" + "0000"))))
                .isInstanceOf(CommandFormatException.class)
                .hasMessage("unknown lifetime 7");

        assertThat(Vocabulary.VERSION).isGreaterThanOrEqualTo(8);
        for (int type = 23; type <= 24; type++) {
            assertThat(Vocabulary.CURRENT.since(type)).isEqualTo(8);
            assertThat(Vocabulary.CURRENT.atVersion(7).knows(type)).isFalse();
        }
    }

    /**
     * The bytes of protocol version 9's command, pinned: a page of a prefix delete is type 25, the
     * invocation, the prefix and the limit (an int). A build of version 8 does not know it.
     */
    @Test
    void aPrefixDeleteHasTheBytesOfVersionNine() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        String inv = "001273657373696f6e2d3031323334353637383900000000000000070000000000000005";
        KeyDeletePrefix page = new KeyDeletePrefix(INV, "svc/", 1_000);
        String bytes = "0119" + "0000000000000001" + inv + "0004" + "7376632f" + "000003e8";
        assertThat(hex.formatHex(CommandCodec.encode(1, page))).isEqualTo(bytes);
        assertThat(CommandCodec.decode(hex.parseHex(bytes))).isEqualTo(page);
        assertThat(CommandCodec.typeOf(page)).isEqualTo(25);

        assertThat(Vocabulary.VERSION).isGreaterThanOrEqualTo(9);
        assertThat(Vocabulary.CURRENT.since(25)).isEqualTo(9);
        assertThat(Vocabulary.CURRENT.atVersion(8).knows(25)).isFalse();
        assertThatThrownBy(() -> CommandCodec.decode(hex.parseHex(bytes.substring(0, bytes.length() - 2))))
                .isInstanceOf(CommandFormatException.class);
    }

    /**
     * The bytes of protocol version 10's command, pinned: a transaction with a put on a lease is type
     * 26, the bytes of type 24 with each put's lease after its time to live (a string, empty for
     * none). A transaction without one keeps its older type, and a build of version 9 does not know
     * 26.
     */
    @Test
    void aPutOnALeaseHasTheBytesOfVersionTen() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        String inv = "001273657373696f6e2d3031323334353637383900000000000000070000000000000005";
        String lease = hex.formatHex(LEASE.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String bytes = "011a" + "0000000000000001" + inv
                + "0000" // no compares
                + "0002" // then: two puts
                + "01" + "000161" + "ffffffffffffffff" + "0000000101" + "01" + "0000000000000000" + "0012" + lease
                + "01" + "000162" + "0000000000000000" + "00000000" + "00" + "0000000000000000" + "0000"
                + "0000"; // otherwise: none
        Transaction txn = leasingTransaction();
        assertThat(hex.formatHex(CommandCodec.encode(1, txn))).isEqualTo(bytes);
        assertThat(CommandCodec.decode(hex.parseHex(bytes))).isEqualTo(txn);
        assertThat(CommandCodec.typeOf(txn)).isEqualTo(26);
        assertThat(CommandCodec.typeOf(keepingTransaction()))
                .as("no lease: its older type")
                .isEqualTo(24);
        assertThat(CommandCodec.typeOf(sampleTransaction())).isEqualTo(21);

        assertThat(Vocabulary.VERSION).isEqualTo(10);
        assertThat(Vocabulary.CURRENT.since(26)).isEqualTo(10);
        assertThat(Vocabulary.CURRENT.atVersion(9).knows(26)).isFalse();
        assertThatThrownBy(() -> CommandCodec.decode(hex.parseHex(bytes.substring(0, bytes.length() - 4))))
                .isInstanceOf(CommandFormatException.class);
    }

    /**
     * The bytes of protocol version 7's command, pinned: the quotas while access control is off are
     * type 22, a count byte, then each quota's name and value sorted by name. A build of version 6
     * does not know it, and a damaged count or a name given twice is a malformed entry.
     */
    @Test
    void theQuotasHaveTheBytesOfVersionSeven() throws Exception {
        java.util.HexFormat hex = java.util.HexFormat.of();
        Command.SetQuotas quotas =
                new Command.SetQuotas(java.util.Map.of("waits-per-session", 5L, "sessions-per-identity", 200_000L));
        String bytes = "0116" + "0000000000000001" + "02"
                + "0015" + hex.formatHex("sessions-per-identity".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                + "0000000000030d40"
                + "0011" + hex.formatHex("waits-per-session".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                + "0000000000000005";
        assertThat(hex.formatHex(CommandCodec.encode(1, quotas))).isEqualTo(bytes);
        assertThat(CommandCodec.decode(hex.parseHex(bytes))).isEqualTo(quotas);
        assertThat(CommandCodec.typeOf(quotas)).isEqualTo(22);
        assertThat(CommandKinds.membersOnly(quotas)).isTrue();

        assertThat(Vocabulary.VERSION).isGreaterThanOrEqualTo(7);
        assertThat(Vocabulary.CURRENT.since(22)).isEqualTo(7);
        assertThat(Vocabulary.CURRENT.atVersion(6).knows(22)).isFalse();

        String twice = "0116" + "0000000000000001" + "02" + "00016100000000000000010001610000000000000002";
        assertThatThrownBy(() -> CommandCodec.decode(hex.parseHex(twice)))
                .isInstanceOf(CommandFormatException.class)
                .hasMessage("a quota is named twice");
        assertThatThrownBy(() -> CommandCodec.decode(hex.parseHex("0116" + "0000000000000001" + "ff")))
                .isInstanceOf(CommandFormatException.class)
                .hasMessage("255 quotas are out of bounds");
    }

    /**
     * An acquire that older builds applied as reentrant (the last byte set): those builds gave the
     * owner another hold count on its grant, which this build does not have, so the entry is a
     * kind this build does not know and the replica stops on it instead of diverging. The bytes
     * are the older build's, for the fifth sample with {@code reentrant = true}.
     */
    @Test
    void aReentrantAcquireOfAnOlderBuildIsAKindThisBuildDoesNotApply() {
        java.util.HexFormat hex = java.util.HexFormat.of();
        for (String old : List.of(
                "01050000000000000005001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f343201000000010000000100000000000000630000000000000bb8000000000000000001",
                "020007736f6d656f6e65050000000000000005001273657373696f6e2d303132333435363738390000000000000007000000000000000500096f72646572732f343201000000010000000100000000000000630000000000000bb8000000000000000001")) {
            assertThatThrownBy(() -> CommandCodec.decodeEnvelope(hex.parseHex(old)))
                    .isInstanceOfSatisfying(
                            CommandFormatException.class,
                            e -> assertThat(e.unknownKind()).isTrue())
                    .hasMessageContaining("reentrant");
        }
    }

    @Test
    void everyCommandRoundTrips() throws Exception {
        for (Command.Envelope e : samples()) {
            assertThat(CommandCodec.decodeEnvelope(CommandCodec.encode(e))).isEqualTo(e);
            Command.Envelope signed = new Command.Envelope(e.time(), "someone", e.command());
            assertThat(CommandCodec.decodeEnvelope(CommandCodec.encode(signed))).isEqualTo(signed);
        }
    }

    @Test
    void theSamplesCoverEveryTypeAndTheTypeIsReadFromTheBytesAlone() {
        java.util.Set<Integer> types = new java.util.TreeSet<>();
        for (Command.Envelope e : samples()) {
            Command c = e.command();
            byte[] bytes = CommandCodec.encode(e);
            types.add(CommandCodec.type(bytes));
            assertThat(CommandCodec.type(CommandCodec.encode(new Command.Envelope(e.time(), "someone", c))))
                    .isEqualTo(CommandCodec.type(bytes));
            assertThat(Vocabulary.CURRENT.knows(CommandCodec.type(bytes))).isTrue();
            assertThat(CommandCodec.typeOf(c)).isEqualTo(CommandCodec.type(bytes));
        }
        assertThat(types)
                .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, CommandCodec.LAST_TYPE)
                        .boxed()
                        .toList());
        assertThat(CommandCodec.type(new byte[] {9, 1})).isEqualTo(-1);
        assertThat(CommandCodec.type(new byte[] {1})).isEqualTo(-1);
        assertThat(Vocabulary.CURRENT.knows(CommandCodec.LAST_TYPE + 1)).isFalse();
    }

    @Test
    void aStringTooLongForTheFormatIsATypedErrorNotAnIoFailure() {
        // Found by HostileInputTest: a 70,000-character name reached the encoder before any check,
        // and its UTFDataFormatException became an INTERNAL answer.
        assertThatThrownBy(() -> CommandCodec.encode(1, new Command.Revoke("x".repeat(70_000))))
                .isInstanceOf(io.holdfast.InvalidArgumentException.class)
                .hasMessageContaining("Revoke")
                .hasMessageContaining("65535");
        assertThat(CommandCodec.encode(1, new Command.Revoke("x".repeat(65_535))))
                .hasSizeGreaterThan(65_535);
    }

    @Test
    void truncatedExtendedOrUnknownBytesAreRefusedWithATypedError() {
        byte[] good = CommandCodec.encode(samples().get(4));
        for (int cut = 0; cut < good.length; cut++) {
            byte[] shorter = java.util.Arrays.copyOf(good, cut);
            assertThatThrownBy(() -> CommandCodec.decode(shorter)).isInstanceOf(CommandFormatException.class);
        }
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> CommandCodec.decode(longer)).hasMessageContaining("trailing");
        byte[] otherFormat = good.clone();
        otherFormat[0] = 9;
        assertThatThrownBy(() -> CommandCodec.decode(otherFormat)).hasMessageContaining("format 9");
        byte[] otherType = good.clone();
        otherType[1] = 77;
        assertThatThrownBy(() -> CommandCodec.decode(otherType)).hasMessageContaining("type 77");
    }

    @Test
    void randomBytesNeverEscapeAsAnythingButCommandFormatException() {
        Random random = new Random(42);
        int decoded = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[random.nextInt(80)];
            random.nextBytes(bytes);
            if (bytes.length > 0 && random.nextBoolean()) {
                bytes[0] = CommandCodec.FORMAT;
            }
            try {
                Command.Envelope e = CommandCodec.decodeEnvelope(bytes);
                decoded++;
                // Whatever decodes must be applicable without an exception.
                new LockTable().apply(e, EventSink.NONE);
            } catch (CommandFormatException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
        assertThat(decoded).isLessThan(20_000);
    }
}
