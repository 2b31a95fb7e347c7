package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UnknownFieldSet;
import io.holdfast.InvalidArgumentException;
import io.holdfast.PutOptions;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction.Compare;
import io.holdfast.model.Transaction.Op;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.CompareOrder;
import io.holdfast.protocol.v1.KeysResponse;
import io.holdfast.protocol.v1.ReplyMessage;
import io.holdfast.protocol.v1.Transaction;
import io.holdfast.protocol.v1.TxnOp;
import io.holdfast.protocol.v1.WatchEventType;
import io.holdfast.protocol.v1.WatchResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The key commands, replies and pages of protocol version 6 on the wire. */
class KeyMessagesTest {
    private static final Invocation INV = new Invocation("session-0123456789", 7, 5);
    private static final byte[] BYTES = {0, -1, 127, -128, 10};

    /** Every compare kind, each order of a version compare, and byte values of every shape. */
    static List<Compare> compares() {
        List<Compare> compares = new ArrayList<>();
        for (io.holdfast.model.Transaction.Order order : io.holdfast.model.Transaction.Order.values()) {
            compares.add(new Compare.Version("k/" + order, order, 3));
        }
        compares.add(new Compare.Version("k", io.holdfast.model.Transaction.Order.LESS, Long.MIN_VALUE));
        compares.add(new Compare.Value("k", BYTES));
        compares.add(new Compare.Value("k", new byte[0]));
        compares.add(new Compare.Absent("k"));
        compares.add(new Compare.Fence("leader", Long.MAX_VALUE));
        compares.add(new Compare.Holder("leader", "session-9876543210"));
        compares.add(new Compare.SessionAlive("session-9876543210"));
        return compares;
    }

    /** Every op kind, with and without a lifetime, with empty and arbitrary bytes. */
    static List<Op> ops() {
        return List.of(
                new Op.Put("k", 0, BYTES, false, 0),
                new Op.Put("k", 0, BYTES, PutOptions.Lifetime.KEEP, 0),
                new Op.Put("k", KeyDelete.ANY_VERSION, new byte[0], true, 0),
                new Op.Put("k", 4, new byte[] {1}, false, 30_000),
                new Op.Put("k", 4, new byte[] {1}, true, 1),
                new Op.Delete("k", 2),
                new Op.Delete("k", KeyDelete.ANY_VERSION),
                new Op.Add("n", -5),
                new Op.Add("n", Long.MIN_VALUE),
                new Op.Get("k"));
    }

    static List<Command> keyCommands() {
        return List.of(
                new KeyDelete(INV, "k", 3),
                new KeyDelete(INV, "k", KeyDelete.ANY_VERSION),
                new CounterAdd(INV, "n", 1),
                new CounterAdd(INV, "n", Long.MIN_VALUE),
                new io.holdfast.model.Transaction(INV, compares(), ops(), ops().subList(4, 9)),
                new io.holdfast.model.Transaction(INV, List.of(), List.of(), List.of()),
                new RegisterSet(INV, "member/a", 0, BYTES, null, 0, true, true, 0),
                new RegisterSet(INV, "member/a", 2, new byte[0], null, 0, true, false, 5_000),
                new RegisterSet(INV, "member/a", 2, BYTES, "leader", 12, true, true, 5_000),
                new io.holdfast.model.KeyDeletePrefix(INV, "svc/", 1_000));
    }

    static List<Reply> replies() {
        return List.of(
                new Reply.Counted(-3, 1),
                new Reply.Counted(Long.MAX_VALUE, 9),
                new Reply.Transacted(
                        true,
                        List.of(
                                new Reply.OpResult(3, null, 0),
                                new Reply.OpResult(0, null, 0),
                                new Reply.OpResult(5, null, -9),
                                new Reply.OpResult(2, BYTES, 0),
                                new Reply.OpResult(1, new byte[0], 0))),
                new Reply.Transacted(false, List.of(new Reply.OpResult(0, null, 0))),
                new Reply.Transacted(false, List.of()),
                new Reply.Transacted(true, List.of()));
    }

    @Test
    void everyKeyCommandRoundTripsThroughItsMessageAndItsBytes() throws Exception {
        roundTrip(keyCommands(), Convert::toProto, CommandRequest::parseFrom, Convert::fromProto);
    }

    @Test
    void aWriteThatSaysHowLongTheKeyLivesHasAKindOlderServersDoNotKnow() {
        CommandRequest leased = Convert.toProto(new RegisterSet(INV, "member/a", 0, BYTES, null, 0, true, true, 0));
        assertThat(leased.getKindCase()).isEqualTo(CommandRequest.KindCase.LEASED_REGISTER_SET);
        assertThat(leased.getLeasedRegisterSet().getAttach()).isTrue();
        CommandRequest detached = Convert.toProto(new RegisterSet(INV, "reg", 0, BYTES, null, 0));
        assertThat(detached.getKindCase())
                .as("a write that detaches: what an older server makes of any write that does not attach")
                .isEqualTo(CommandRequest.KindCase.LEASED_REGISTER_SET);
        assertThat(detached.getLeasedRegisterSet().getDetach()).isTrue();
        RegisterSet keeping = new RegisterSet(INV, "reg", 0, BYTES, null, 0, true, PutOptions.Lifetime.KEEP, 0);
        CommandRequest plain = Convert.toProto(keeping);
        assertThat(plain.getKindCase()).isEqualTo(CommandRequest.KindCase.REGISTER_SET);
        assertThat(Convert.fromProto(plain))
                .as("an older client's plain write keeps")
                .isEqualTo(keeping);
        CommandRequest neither = CommandRequest.newBuilder()
                .setLeasedRegisterSet(
                        detached.getLeasedRegisterSet().toBuilder().setDetach(false))
                .build();
        assertThat(((RegisterSet) Convert.fromProto(neither)).lifetime())
                .as("a leased_register_set names a lifetime: without attach, it detaches")
                .isEqualTo(PutOptions.Lifetime.DETACH);
        assertRefused(
                () -> Convert.fromProto(CommandRequest.newBuilder()
                        .setLeasedRegisterSet(
                                leased.getLeasedRegisterSet().toBuilder().setDetach(true))
                        .build()),
                "both attach and detach");

        CommandRequest smuggled = CommandRequest.newBuilder()
                .setRegisterSet(leased.getLeasedRegisterSet().toBuilder()
                        .setAttach(false)
                        .setTtlMillis(1))
                .build();
        assertRefused(() -> Convert.fromProto(smuggled), "leased_register_set");
    }

    @Test
    void aTransactionPutWithoutAttachDetachOrTtlKeepsAsAnOlderClientsDid() {
        TxnOp.Put older =
                TxnOp.Put.newBuilder().setKey("k").setExpectedVersion(-1).build();
        assertThat(KeyMessages.lifetime(older.getAttach(), older.getDetach(), older.getTtlMillis()))
                .isEqualTo(PutOptions.Lifetime.KEEP);
        assertThat(KeyMessages.lifetime(false, false, 5_000)).isEqualTo(PutOptions.Lifetime.DETACH);
        assertThat(KeyMessages.lifetime(false, true, 0)).isEqualTo(PutOptions.Lifetime.DETACH);
        assertThat(KeyMessages.lifetime(true, false, 0)).isEqualTo(PutOptions.Lifetime.ATTACH);
    }

    @Test
    void everyKeyReplyRoundTrips() throws Exception {
        roundTrip(replies(), Convert::toProto, ReplyMessage::parseFrom, Convert::fromProto);
        ReplyMessage.Transacted t = Convert.toProto(replies().get(2)).getTransacted();
        assertThat(t.getResults(0).hasValue()).as("an absent value is unset").isFalse();
        assertThat(t.getResults(4).hasValue()).as("an empty value is set").isTrue();
    }

    @Test
    void aPageOfKeysRoundTripsWithItsPosition() throws Exception {
        ChangePosition at = ChangePosition.parse("42.3");
        List<KeyPage> pages = List.of(
                new KeyPage(
                        List.of(
                                new KeyPage.Entry("svc/a", 1, BYTES, "session-0123456789", 0),
                                new KeyPage.Entry("svc/b", 7, new byte[0], null, 1_700_000_000_000L),
                                new KeyPage.Entry("svc/é", 2, new byte[] {1}, "session-9876543210", 5)),
                        true,
                        at),
                new KeyPage(List.of(), false, at));
        roundTrip(pages, Convert::toProto, KeysResponse::parseFrom, Convert::fromProto);
        assertThat(Convert.toProto(pages.get(0)).getPosition()).isEqualTo("42.3");
        assertThat(Convert.toProto(pages.get(0)).getKeys(1).hasOwner()).isFalse();
        assertRefused(() -> Convert.fromProto(KeysResponse.getDefaultInstance()), "keys.position");

        var request = Convert.keysRequest("svc/", null, 100);
        assertThat(List.of(request.getPrefix(), request.getAfter(), request.getLimit()))
                .containsExactly("svc/", "", 100);
        assertThat(Convert.keysRequest("svc/", "svc/a", 2).getAfter()).isEqualTo("svc/a");
    }

    @Test
    void malformedKeyMessagesAreRefusedWithATypedErrorNamingWhere() {
        Transaction full = Convert.toProto(keyCommands().get(4)).getTransaction();
        assertRefused(
                () -> Convert.fromProto(CommandRequest.newBuilder()
                        .setTransaction(full.toBuilder().clearInvocation())
                        .build()),
                "transaction command has no invocation");
        assertRefused(
                () -> Convert.fromProto(CommandRequest.newBuilder()
                        .setKeyDelete(io.holdfast.protocol.v1.KeyDelete.getDefaultInstance())
                        .build()),
                "key_delete command has no invocation");
        assertRefused(
                () -> Convert.fromProto(CommandRequest.newBuilder()
                        .setCounterAdd(io.holdfast.protocol.v1.CounterAdd.getDefaultInstance())
                        .build()),
                "counter_add command has no invocation");
        assertRefused(
                () -> Convert.fromProto(CommandRequest.newBuilder()
                        .setKeyDeletePrefix(io.holdfast.protocol.v1.KeyDeletePrefix.getDefaultInstance())
                        .build()),
                "key_delete_prefix command has no invocation");
        assertRefused(
                () -> Convert.fromProto(CommandRequest.newBuilder()
                        .setTransaction(full.toBuilder().setCompares(1, io.holdfast.protocol.v1.Compare.newBuilder()))
                        .build()),
                "transaction.compares[1] has no kind");
        assertRefused(
                () -> Convert.fromProto(CommandRequest.newBuilder()
                        .setTransaction(full.toBuilder().setOtherwise(2, TxnOp.newBuilder()))
                        .build()),
                "transaction.otherwise[2] has no kind");
        for (int order : new int[] {CompareOrder.COMPARE_ORDER_UNSPECIFIED_VALUE, 99}) {
            var compare = full.getCompares(0).toBuilder();
            compare.getVersionBuilder().setOrderValue(order);
            assertRefused(
                    () -> Convert.fromProto(CommandRequest.newBuilder()
                            .setTransaction(full.toBuilder().setCompares(0, compare))
                            .build()),
                    "transaction.compares[0].version.order");
        }
    }

    @Test
    void aKindFromANewerPeerIsRefusedWithItsFieldNumber() {
        UnknownFieldSet newer = UnknownFieldSet.newBuilder()
                .addField(99, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                .build();
        assertRefused(
                () -> Convert.fromProto(
                        CommandRequest.newBuilder().setUnknownFields(newer).build()),
                "field [99] of CommandRequest");
        assertRefused(
                () -> Convert.fromProto(
                        ReplyMessage.newBuilder().setUnknownFields(newer).build()),
                "field [99] of ReplyMessage");
        assertRefused(() -> Convert.fromProto(CommandRequest.getDefaultInstance()), "has no command");
    }

    @Test
    void nullFieldsOfKeyCommandsAreRefusedNotThrownAsNullPointers() {
        List<Command> bad = List.of(
                new KeyDelete(INV, null, 1),
                new CounterAdd(INV, null, 1),
                new io.holdfast.model.Transaction(INV, null, List.of(), List.of()),
                new io.holdfast.model.Transaction(
                        INV, List.of(), List.of(new Op.Put("k", 0, null, false, 0)), List.of()),
                new io.holdfast.model.Transaction(
                        INV, List.of(new Compare.Version("k", null, 1)), List.of(), List.of()),
                new io.holdfast.model.Transaction(INV, List.of(new Compare.Absent(null)), List.of(), List.of()));
        for (Command c : bad) {
            assertThatThrownBy(() -> Convert.toProto(c)).as("%s", c).isInstanceOf(InvalidArgumentException.class);
        }
    }

    @Test
    void aDeletedKeyIsItsOwnChangeForReadersThatAskAndAnAbsentRegisterForOlderOnes() throws Exception {
        var request = Convert.toProto(WatchTarget.register("cfg"), null, 0);
        assertThat(request.getDeletions()).as("this build's reader asks").isTrue();
        List<WatchEvent> events = List.of(
                WatchEvent.registerDeleted("cfg", "session-0123456789", 4, null).at("9.1"),
                WatchEvent.registerDeleted("cfg", "session-0123456789", 5, WatchEvent.Cause.SESSION_EXPIRED)
                        .at("9.2"),
                WatchEvent.registerDeleted("cfg", null, 6, WatchEvent.Cause.LEASE_TIMEOUT)
                        .at("9.3"),
                WatchEvent.registerDeleted("cfg", "session-0123456789", 7, WatchEvent.Cause.SESSION_CLOSED)
                        .at("9.4"));
        ChangePage page = new ChangePage(events, ChangePosition.parse("9.5"), false);

        WatchResponse m = Convert.toProto(page, request);
        assertThat(m.getEvents(0).getType()).isEqualTo(WatchEventType.CHANGE_REGISTER_DELETED);
        assertThat(Convert.fromProto(WatchResponse.parseFrom(m.toByteArray()))).isEqualTo(page);

        WatchResponse older =
                Convert.toProto(page, request.toBuilder().clearDeletions().build());
        assertThat(older).isEqualTo(Convert.toProto(page));
        for (var e : older.getEventsList()) {
            assertThat(e.getType()).isEqualTo(WatchEventType.CHANGE_REGISTER_SET);
            assertThat(e.getVersion()).isZero();
            assertThat(e.hasValue()).isFalse();
        }
    }

    /** Parses bytes into a message. */
    private interface Parser<M> {
        M parse(byte[] bytes) throws com.google.protobuf.InvalidProtocolBufferException;
    }

    /** Each value reads back equal from its message's bytes. */
    private static <T, M extends com.google.protobuf.Message> void roundTrip(
            List<T> values, Function<T, M> toProto, Parser<M> parser, Function<M, T> fromProto) throws Exception {
        for (T value : values) {
            M m = toProto.apply(value);
            assertThat(fromProto.apply(parser.parse(m.toByteArray())))
                    .as("%s", value)
                    .isEqualTo(value);
        }
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String detail) {
        assertThatThrownBy(call).isInstanceOf(InvalidArgumentException.class).hasMessageContaining(detail);
    }
}
