package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input becomes an error reply and leaves the table exactly as it was: the snapshot (which is
 * canonical) has the same bytes before and after. Every bad command carries the table's own time,
 * since a later time would legitimately move the clock.
 */
class InvalidInputTest {
    private final TableDriver d = new TableDriver();
    private long xToken;

    @BeforeEach
    void populate() {
        TableDriver.Client a = d.open("a");
        TableDriver.Client b = d.open("b", 1_000);
        xToken = token(a.acquire("x").lease(5_000).apply());
        b.acquire("x").waitMillis(10_000).apply();
        token(a.acquire("s").permits(2, 3).owner(2).apply());
        a.set("k", 0, new byte[] {1, 2, 3});
        d.advance(100);
        token(b.acquire("y").owner(2).apply());
    }

    static Stream<Arguments> badCommands() {
        return Stream.of(
                bad("empty name", d -> acquire(d, "").command()),
                bad("513-byte name", d -> acquire(d, "x".repeat(513)).command()),
                bad(
                        "513 bytes of multi-byte characters",
                        d -> acquire(d, "é".repeat(256) + "x").command()),
                bad("control character in the name", d -> acquire(d, "a\u0007b").command()),
                bad("lone surrogate in the name", d -> acquire(d, "a\uD800b").command()),
                bad("negative wait", d -> acquire(d, "x").waitMillis(-1).command()),
                bad(
                        "wait over a day",
                        d -> acquire(d, "x")
                                .waitMillis(Limits.MAX_WAIT_MILLIS + 1)
                                .command()),
                bad(
                        "lease under 100 ms",
                        d -> acquire(d, "z").lease(Limits.MIN_LEASE_MILLIS - 1).command()),
                bad("negative lease", d -> acquire(d, "z").lease(-1).command()),
                bad("null mode", d -> acquire(d, "z").mode(null).command()),
                bad(
                        "lock with 0 permits",
                        d -> acquire(d, "z")
                                .permits(0, 1)
                                .mode(LockMode.EXCLUSIVE)
                                .command()),
                bad(
                        "lock with 2 permits",
                        d -> acquire(d, "z").permits(2, 2).mode(LockMode.SHARED).command()),
                bad(
                        "0 permits of a semaphore",
                        d -> acquire(d, "s").permits(0, 3).command()),
                bad("semaphore of 0 permits", d -> acquire(d, "t").permits(1, 0).command()),
                bad("release of an empty name", d -> new Command.Release(inv(d), "", 1)),
                bad("renew of a long name", d -> new Command.Renew(inv(d), "x".repeat(513), 1)),
                bad("cancel wait on a control name", d -> new Command.CancelWait(inv(d), "\n", 2)),
                bad("value over 64 KiB", d -> set(d, "k", 1, new byte[Limits.MAX_VALUE_BYTES + 1], null)),
                bad("null value", d -> set(d, "k", 1, null, null)),
                bad("negative expected version", d -> set(d, "k", -1, new byte[1], null)),
                bad("empty register key", d -> set(d, "", 0, new byte[1], null)),
                bad("fence on an empty name", d -> set(d, "k", 1, new byte[1], "")),
                bad("revoke of an empty name", d -> new Command.Revoke("")),
                bad("session TTL too short", d -> open(d, Limits.MIN_TTL_MILLIS - 1, 0)),
                bad("lock-delay too long", d -> open(d, 5_000, Limits.MAX_LOCK_DELAY_MILLIS + 1)),
                bad("negative lock-delay", d -> open(d, 5_000, -1)),
                bad("null client name", d -> new Command.OpenSession("abcdefghijklmnopq", null, 5_000, 0)),
                bad("seq 0", d -> new Command.CloseSession(new Invocation(d.client("a").id, 0, 0))),
                bad(
                        "acknowledged above the seq",
                        d -> new Command.CloseSession(new Invocation(d.client("a").id, 9, 10))),
                bad("no invocation", d -> new Command.Release(null, "x", 1)),
                bad("null command", d -> null),
                Arguments.of(
                        "unknown session",
                        (Function<TableDriver, Command>)
                                d -> new Command.CloseSession(new Invocation(TableDriver.sessionId("nobody"), 1, 0)),
                        ErrorCode.SESSION_EXPIRED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCommands")
    void badInputIsRefusedAndChangesNothing(String what, Function<TableDriver, Command> make, ErrorCode code) {
        byte[] before = d.snapshot();
        long now = d.table().now();

        Reply reply = d.apply(make.apply(d));

        failed(reply, code);
        assertThat(d.events()).isEmpty();
        assertThat(d.table().now()).isEqualTo(now);
        d.assertUnchangedSince(before, what);
        assertThat(d.table().isCurrentHolder("x", xToken)).isTrue();
    }

    private static Arguments bad(String what, Function<TableDriver, Command> make) {
        return Arguments.of(what, make, ErrorCode.INVALID_ARGUMENT);
    }

    private static TableDriver.AcquireRequest acquire(TableDriver d, String name) {
        return d.client("a").acquire(name).owner(3).waitMillis(1_000);
    }

    private static Invocation inv(TableDriver d) {
        return d.client("a").next();
    }

    private static Command set(TableDriver d, String key, long expected, byte[] value, String fence) {
        return new RegisterSet(inv(d), key, expected, value, fence, 1);
    }

    private static Command open(TableDriver d, long ttl, long lockDelay) {
        return new Command.OpenSession("abcdefghijklmnopq", "c", ttl, lockDelay);
    }
}
