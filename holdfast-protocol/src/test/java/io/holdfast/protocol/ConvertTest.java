package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.HolderInfo;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Event;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.protocol.v1.Acquire;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.ReadRegisterResponse;
import io.holdfast.protocol.v1.ReplyMessage;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ConvertTest {
    private static final Invocation INV = new Invocation("session-0123456789", 7, 5);

    /** Every command a client may send, each kind at least once. */
    static List<Command> clientCommands() {
        return List.of(
                new Command.OpenSession("session-0123456789", "me@host:1", 10_000, 500),
                new Command.CloseSession(INV),
                new Command.Acquire(INV, "orders/42", LockMode.EXCLUSIVE, 1, 1, 99, 3000, 0),
                new Command.Acquire(INV, "orders/42", LockMode.SHARED, 1, 1, Long.MIN_VALUE, 0, 250),
                new Command.Acquire(INV, "slots", LockMode.PERMITS, 2, 4, -1, Long.MAX_VALUE, 0),
                new Command.Release(INV, "orders/42", 12),
                new Command.Renew(INV, "orders/42", 12),
                new Command.CancelWait(INV, "orders/42", 6),
                new RegisterSet(INV, "reg", 3, new byte[] {1, 2, 3}, "orders/42", 12),
                new RegisterSet(INV, "reg", 0, new byte[0], null, 0),
                new RegisterSet(INV, "reg", 1, new byte[0], "", 0),
                new Command.Revoke("orders/42"),
                new Command.EndSession("session-0123456789"));
    }

    static List<Reply> replies() {
        return List.of(
                Reply.Ok.INSTANCE,
                new Reply.Ok(3),
                new Reply.Granted(Long.MAX_VALUE),
                Reply.Queued.INSTANCE,
                Reply.Busy.INSTANCE,
                new Reply.Written(9),
                Reply.Failed.of(ErrorCode.NOT_OWNER, "not yours"),
                new Reply.Failed(ErrorCode.DEADLOCK, "cycle", List.of("a", "b", "a"), -1),
                new Reply.Failed(ErrorCode.CONFLICT, "version moved", List.of(), 17));
    }

    static List<Event> events() {
        return List.of(
                new Event.Granted("session-0123456789", 4, "orders/42", 77),
                new Event.WaitTimedOut("session-0123456789", 5, "orders/42"),
                new Event.Lost("session-0123456789", "orders/42", 77, Event.Reason.SESSION_EXPIRED),
                new Event.Lost("session-0123456789", "orders/42", 78, Event.Reason.LEASE_TIMEOUT),
                new Event.Lost("session-0123456789", "orders/42", 79, Event.Reason.REVOKED),
                new Event.SessionExpired("session-0123456789"));
    }

    @Test
    void everyClientCommandRoundTripsThroughItsMessageAndItsBytes() throws Exception {
        for (Command c : clientCommands()) {
            CommandRequest m = Convert.toProto(c);
            assertThat(Convert.fromProto(m)).as("%s", c).isEqualTo(c);
            assertThat(Convert.fromProto(CommandRequest.parseFrom(m.toByteArray())))
                    .as("%s through bytes", c)
                    .isEqualTo(c);
        }
    }

    @Test
    void theLeadersOwnCommandsHaveNoMessage() {
        for (Command c : List.of(
                new Command.Tick(),
                new Command.ExpireSession("session-0123456789"),
                new Command.KeepAlive("session-0123456789"))) {
            assertThatThrownBy(() -> Convert.toProto(c))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining(c.getClass().getSimpleName());
        }
    }

    @Test
    void everyErrorCodeAndEveryModeHasAWireValue() {
        for (ErrorCode code : ErrorCode.values()) {
            Reply r = Reply.Failed.of(code, "m");
            assertThat(Convert.fromProto(Convert.toProto(r))).isEqualTo(r);
        }
        for (LockMode mode : LockMode.values()) {
            Command c = new Command.Acquire(INV, "n", mode, 1, 1, 1, 0, 0);
            assertThat(Convert.fromProto(Convert.toProto(c))).isEqualTo(c);
        }
    }

    @Test
    void everyReplyRoundTrips() throws Exception {
        for (Reply r : replies()) {
            ReplyMessage m = Convert.toProto(r);
            assertThat(Convert.fromProto(ReplyMessage.parseFrom(m.toByteArray())))
                    .as("%s", r)
                    .isEqualTo(r);
        }
    }

    @Test
    void everyEventRoundTrips() throws Exception {
        for (Event e : events()) {
            EventMessage m = Convert.toProto(e);
            assertThat(Convert.fromProto(EventMessage.parseFrom(m.toByteArray())))
                    .as("%s", e)
                    .isEqualTo(e);
        }
    }

    @Test
    void lockInfoRoundTripsWithAndWithoutLeaseTimeouts() {
        LockInfo info = new LockInfo(
                "orders/42",
                false,
                1,
                List.of(
                        new HolderInfo("s1", "a@h:1", LockMode.SHARED, 1, 5, 2, Duration.ofMillis(1500), null),
                        new HolderInfo("s2", "b@h:2", LockMode.SHARED, 1, 6, 1, Duration.ZERO, Duration.ofMillis(800))),
                List.of(new WaiterInfo(
                        "s3", "c@h:3", LockMode.EXCLUSIVE, 1, Duration.ofMillis(20), Duration.ofSeconds(3))));
        assertThat(Convert.fromProto(Convert.toProto(info))).isEqualTo(info);
        LockInfo semaphore = new LockInfo("slots", true, 4, List.of(), List.of());
        assertThat(Convert.fromProto(Convert.toProto(semaphore))).isEqualTo(semaphore);
    }

    @Test
    void registerReadsRoundTrip() {
        Optional<RegisterValue> absent = Convert.fromProto(Convert.toProto(Optional.<RegisterValue>empty()));
        assertThat(absent).isEmpty();
        Optional<RegisterValue> present =
                Convert.fromProto(Convert.toProto(Optional.of(new RegisterValue(4, new byte[] {9, 8}))));
        assertThat(present).hasValueSatisfying(v -> {
            assertThat(v.version()).isEqualTo(4);
            assertThat(v.value()).containsExactly(9, 8);
        });
        assertThat(Convert.fromProto(ReadRegisterResponse.getDefaultInstance())).isEmpty();
    }

    @Test
    void messagesWithoutAKindAreRefusedWithATypedError() {
        assertRefused(() -> Convert.fromProto(CommandRequest.getDefaultInstance()), "no command");
        assertRefused(() -> Convert.fromProto(ReplyMessage.getDefaultInstance()), "no reply");
        assertRefused(() -> Convert.fromProto(EventMessage.getDefaultInstance()), "no event");
    }

    @Test
    void changingCommandsWithoutTheirInvocationAreRefused() {
        for (Command c : clientCommands()) {
            if (!(c instanceof Command.ClientCommand)) {
                continue;
            }
            CommandRequest full = Convert.toProto(c);
            CommandRequest stripped = stripInvocation(full);
            assertRefused(() -> Convert.fromProto(stripped), "no invocation");
        }
    }

    @Test
    void unspecifiedAndUnknownEnumValuesAreRefused() {
        CommandRequest good = Convert.toProto(clientCommands().get(2));
        for (int value : new int[] {0, 99, -1}) {
            CommandRequest bad = good.toBuilder()
                    .setAcquire(good.getAcquire().toBuilder().setModeValue(value))
                    .build();
            assertRefused(() -> Convert.fromProto(bad), "acquire.mode");
            // The same through bytes: an unknown value survives parsing as UNRECOGNIZED.
            assertRefused(() -> Convert.fromProto(CommandRequest.parseFrom(bad.toByteArray())), "acquire.mode");
        }
        ReplyMessage failed = Convert.toProto(Reply.Failed.of(ErrorCode.TIMEOUT, "t"));
        for (int value : new int[] {0, 42}) {
            ReplyMessage bad = failed.toBuilder()
                    .setFailed(failed.getFailed().toBuilder().setCodeValue(value))
                    .build();
            assertRefused(() -> Convert.fromProto(bad), "failed.code");
        }
        EventMessage lost = Convert.toProto(events().get(2));
        for (int value : new int[] {0, 7}) {
            EventMessage bad = lost.toBuilder()
                    .setLost(lost.getLost().toBuilder().setReasonValue(value))
                    .build();
            assertRefused(() -> Convert.fromProto(bad), "lost.reason");
        }
        io.holdfast.protocol.v1.LockInfo info = io.holdfast.protocol.v1.LockInfo.newBuilder()
                .setName("n")
                .addHolders(io.holdfast.protocol.v1.HolderInfo.newBuilder().setModeValue(0))
                .build();
        assertRefused(() -> Convert.fromProto(info), "holder.mode");
    }

    @Test
    void streamMarkersAreNotEvents() {
        assertRefused(() -> Convert.fromProto(Convert.gap("s")), "GAP");
        assertRefused(() -> Convert.fromProto(Convert.started("s")), "STARTED");
    }

    @Test
    void nullFieldsOfACoreValueAreRefusedNotThrownAsNullPointers() {
        assertRefused(() -> Convert.toProto(new Command.Revoke(null)), "name");
        assertRefused(() -> Convert.toProto(new Command.EndSession(null)), "session_id");
        assertRefused(() -> Convert.toProto(new RegisterSet(INV, "k", 0, null, null, 0)), "value");
        assertRefused(() -> Convert.toProto(new Command.Acquire(INV, "n", null, 1, 1, 0, 0, 0)), "lock mode");
        assertRefused(() -> Convert.toProto((Command) null), "null command");
    }

    @Test
    void randomBytesNeverEscapeAsAnythingButATypedError() {
        java.util.Random random = new java.util.Random(7);
        int parsed = 0;
        for (int i = 0; i < 5_000; i++) {
            byte[] bytes = new byte[random.nextInt(40)];
            random.nextBytes(bytes);
            try {
                CommandRequest m = CommandRequest.parseFrom(bytes);
                parsed++;
                try {
                    Convert.fromProto(m);
                } catch (InvalidArgumentException expected) {
                    assertThat(expected.getMessage()).isNotBlank();
                }
            } catch (com.google.protobuf.InvalidProtocolBufferException notProtobuf) {
                // gRPC refuses these before the service sees them
            }
        }
        assertThat(parsed).isPositive();
    }

    private static CommandRequest stripInvocation(CommandRequest m) {
        Function<CommandRequest, CommandRequest> strip = switch (m.getKindCase()) {
            case CLOSE_SESSION ->
                r -> r.toBuilder()
                        .setCloseSession(r.getCloseSession().toBuilder().clearInvocation())
                        .build();
            case ACQUIRE ->
                r -> r.toBuilder()
                        .setAcquire(Acquire.newBuilder(r.getAcquire()).clearInvocation())
                        .build();
            case RELEASE ->
                r -> r.toBuilder()
                        .setRelease(r.getRelease().toBuilder().clearInvocation())
                        .build();
            case RENEW ->
                r -> r.toBuilder()
                        .setRenew(r.getRenew().toBuilder().clearInvocation())
                        .build();
            case CANCEL_WAIT ->
                r -> r.toBuilder()
                        .setCancelWait(r.getCancelWait().toBuilder().clearInvocation())
                        .build();
            case REGISTER_SET ->
                r -> r.toBuilder()
                        .setRegisterSet(r.getRegisterSet().toBuilder().clearInvocation())
                        .build();
            case LEASED_REGISTER_SET ->
                r -> r.toBuilder()
                        .setLeasedRegisterSet(
                                r.getLeasedRegisterSet().toBuilder().clearInvocation())
                        .build();
            default -> throw new AssertionError("no invocation in " + m.getKindCase());
        };
        return strip.apply(m);
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String detail) {
        assertThatThrownBy(call).isInstanceOf(InvalidArgumentException.class).hasMessageContaining(detail);
    }
}
