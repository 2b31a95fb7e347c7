package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RegisterTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private RegisterValue read(String key) {
        return d.table().register(key).orElseThrow();
    }

    @Test
    void aCompareAndSetFromZeroCreatesVersionOne() {
        assertThat(d.table().register("k")).isEmpty();

        assertThat(a.set("k", 0, bytes("one"))).isEqualTo(new Reply.Written(1));

        assertThat(read("k").version()).isEqualTo(1);
        assertThat(read("k").value()).isEqualTo(bytes("one"));
        assertThat(a.set("k", 1, bytes("two"))).isEqualTo(new Reply.Written(2));
        assertThat(read("k").value()).isEqualTo(bytes("two"));
    }

    @Test
    void aWrongExpectedVersionIsAConflictThatReportsTheCurrentVersion() {
        a.set("k", 0, bytes("one"));
        a.set("k", 1, bytes("two"));

        Reply.Failed stale = failed(b.set("k", 1, bytes("three")), ErrorCode.CONFLICT);
        Reply.Failed create = failed(b.set("k", 0, bytes("three")), ErrorCode.CONFLICT);
        Reply.Failed ahead = failed(b.set("k", 7, bytes("three")), ErrorCode.CONFLICT);

        assertThat(stale.currentVersion()).isEqualTo(2);
        assertThat(create.currentVersion()).isEqualTo(2);
        assertThat(ahead.currentVersion()).isEqualTo(2);
        assertThat(read("k").value()).isEqualTo(bytes("two"));
        assertThat(b.set("absent", 1, bytes("x")))
                .isEqualTo(new Reply.Failed(ErrorCode.CONFLICT, "absent is at version 0, not 1", List.of(), 0));
    }

    @Test
    void aFencedWriteSucceedsWithTheCurrentToken() {
        long t = token(a.acquire("l").apply());

        assertThat(a.setFenced("k", 0, bytes("v"), "l", t)).isEqualTo(new Reply.Written(1));
        assertThat(read("k").version()).isEqualTo(1);
    }

    @Test
    void aFenceCopiedFromAnotherSessionIsRefusedAndTheHoldersOwnWriteIsNot() {
        long t = token(a.acquire("l").apply());

        Reply.Failed forged = failed(b.setFenced("k", 0, bytes("forged"), "l", t), ErrorCode.CONFLICT);

        assertThat(forged.message())
                .isEqualTo("fencing token " + t + " of l belongs to another session, not to the writing one");
        assertThat(forged.currentVersion()).isZero();
        assertThat(d.table().register("k")).isEmpty();
        assertThat(a.setFenced("k", 0, bytes("own"), "l", t)).isEqualTo(new Reply.Written(1));
        assertThat(read("k").value()).isEqualTo(bytes("own"));
    }

    @Test
    void aWriteLoggedAsTypeTenStillTakesAnySessionsCurrentGrant() {
        // What a cluster still speaking protocol version 3 logs, and what old log entries replay.
        long t = token(a.acquire("l").apply());

        assertThat(b.setFencedAnySession("k", 0, bytes("w"), "l", t)).isEqualTo(new Reply.Written(1));
        a.release("l", t);
        failed(b.setFencedAnySession("k", 1, bytes("x"), "l", t), ErrorCode.CONFLICT);
        assertThat(read("k").value()).isEqualTo(bytes("w"));
    }

    @Test
    void aFencedWriteFailsAfterRelease() {
        long t = token(a.acquire("l").apply());
        a.release("l", t);

        Reply.Failed f = failed(a.setFenced("k", 0, bytes("v"), "l", t), ErrorCode.CONFLICT);

        assertThat(f.message()).contains("fencing token " + t);
        assertThat(d.table().register("k")).isEmpty();
    }

    @Test
    void aFencedWriteFailsAfterRevoke() {
        long t = token(a.acquire("l").apply());
        a.set("k", 0, bytes("v"));
        d.revoke("l");

        Reply.Failed f = failed(a.setFenced("k", 1, bytes("w"), "l", t), ErrorCode.CONFLICT);

        assertThat(f.currentVersion()).isEqualTo(1);
        assertThat(read("k").value()).isEqualTo(bytes("v"));
    }

    @Test
    void aFencedWriteWithAnOldTokenFailsOnceTheLockIsSomeoneElses() {
        long old = token(a.acquire("l").lease(500).apply());
        b.acquire("l").waitMillis(10_000).apply();
        d.tickAt(d.time() + 500); // a's lease times out; b is granted
        long current = d.table().lastToken();

        failed(a.setFenced("k", 0, bytes("stale"), "l", old), ErrorCode.CONFLICT);
        assertThat(b.setFenced("k", 0, bytes("fresh"), "l", current)).isEqualTo(new Reply.Written(1));
        assertThat(read("k").value()).isEqualTo(bytes("fresh"));
    }

    @Test
    void valuesUpTo64KiBAreAcceptedAndLargerOnesRefused() {
        assertThat(a.set("k", 0, new byte[Limits.MAX_VALUE_BYTES])).isEqualTo(new Reply.Written(1));

        failed(a.set("k", 1, new byte[Limits.MAX_VALUE_BYTES + 1]), ErrorCode.INVALID_ARGUMENT);
        assertThat(read("k").version()).isEqualTo(1);
    }

    @Test
    void theTableKeepsItsOwnCopyOfEveryValue() {
        byte[] written = bytes("abc");
        a.set("k", 0, written);
        written[0] = 'X';

        byte[] first = read("k").value();
        first[1] = 'Y';

        assertThat(read("k").value()).isEqualTo(bytes("abc"));
    }
}
