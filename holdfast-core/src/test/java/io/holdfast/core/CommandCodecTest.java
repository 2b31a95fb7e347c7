package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.LockMode;
import io.holdfast.core.Command.Invocation;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CommandCodecTest {
    private static final Invocation INV = new Invocation("session-0123456789", 7, 5);

    static List<Command> samples() {
        return List.of(
                new Command.OpenSession(1, "session-0123456789", "me@host:1", 10_000, 500),
                new Command.KeepAlive(2, "session-0123456789"),
                new Command.CloseSession(3, INV),
                new Command.ExpireSession(4, "session-0123456789"),
                new Command.Acquire(5, INV, "orders/42", LockMode.SHARED, 1, 1, 99, 3000, 0, true),
                new Command.Acquire(5, INV, "slots", LockMode.PERMITS, 2, 4, -1, 0, 250, false),
                new Command.Release(6, INV, "orders/42", 12),
                new Command.Renew(7, INV, "orders/42", 12),
                new Command.CancelWait(8, INV, "orders/42", 6),
                new Command.Tick(9),
                new Command.RegisterSet(10, INV, "reg", 3, new byte[] {1, 2, 3}, "orders/42", 12),
                new Command.RegisterSet(10, INV, "reg", 0, new byte[0], null, 0),
                new Command.Revoke(11, "orders/42"),
                new Command.SetAccessRules(12, "user alice r\nrole r admin *"),
                new Command.SetAccessRules(12, null),
                new Command.ReportVersion(13, "n1", 1),
                new Command.AcquireAll(
                        14, INV, java.util.List.of("orders/1", "orders/2"), LockMode.SHARED, 7, 1_000, 30_000));
    }

    @Test
    void everyCommandRoundTrips() throws Exception {
        for (Command c : samples()) {
            assertThat(CommandCodec.decode(CommandCodec.encode(c))).isEqualTo(c);
        }
    }

    @Test
    void theSamplesCoverEveryTypeAndTheTypeIsReadFromTheBytesAlone() {
        java.util.Set<Integer> types = new java.util.TreeSet<>();
        for (Command c : samples()) {
            byte[] bytes = CommandCodec.encode(c);
            types.add(CommandCodec.type(bytes));
            assertThat(CommandCodec.type(CommandCodec.encode(new Command.Authored("someone", c))))
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
        assertThatThrownBy(() -> CommandCodec.encode(new Command.Revoke(1, "x".repeat(70_000))))
                .isInstanceOf(io.holdfast.InvalidArgumentException.class)
                .hasMessageContaining("Revoke")
                .hasMessageContaining("65535");
        assertThat(CommandCodec.encode(new Command.Revoke(1, "x".repeat(65_535))))
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
                Command c = CommandCodec.decode(bytes);
                decoded++;
                // Whatever decodes must be applicable without an exception.
                new LockTable().apply(c, EventSink.NONE);
            } catch (CommandFormatException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
        assertThat(decoded).isLessThan(20_000);
    }
}
