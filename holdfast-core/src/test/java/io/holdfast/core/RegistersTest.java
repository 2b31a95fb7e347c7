package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.SetAccessRules;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

/**
 * {@link Registers} on its own: compare-and-set versions, fenced writes, copies in and out, and
 * the register-bytes bookkeeping its quota is checked against. Registers through the table (with
 * sessions, invocations and snapshots) are {@link RegisterTest}.
 */
class RegistersTest {
    private static final Invocation INV = new Invocation("session-0000000000", 1, 0);
    private static final Registers.Fences NO_GRANTS = (name, token) -> null;

    private final Admission admission = new Admission();
    private Registers.Fences fences = NO_GRANTS;
    /** The table's state entries the registers see; -1: as many as they hold. */
    private int entries = -1;

    private final Registers registers = fresh();

    private Registers fresh() {
        return new Registers(
                new Queues(java.util.Set.of()),
                (name, token) -> fences.holder(name, token),
                admission,
                () -> entries >= 0 ? entries : registers.size(),
                java.util.Set.of());
    }

    private Reply set(String key, long expected, byte[] value) {
        return registers.set(new RegisterSet(INV, key, expected, value, null, 0));
    }

    @Test
    void versionsGrowByOneAndAWrongExpectationConflicts() {
        assertThat(registers.get("k")).isEmpty();
        assertThat(set("k", 0, new byte[] {1})).isEqualTo(new Reply.Written(1));
        assertThat(set("k", 1, new byte[] {2, 3})).isEqualTo(new Reply.Written(2));
        Reply.Failed f = failed(set("k", 1, new byte[] {4}), ErrorCode.CONFLICT);
        assertThat(f.message()).isEqualTo("k is at version 2, not 1");
        assertThat(f.currentVersion()).isEqualTo(2);
        assertThat(registers.get("k").orElseThrow().value()).containsExactly(2, 3);
        assertThat(registers.bytes()).isEqualTo(2);
    }

    @Test
    void storedAndReadValuesAreCopies() {
        byte[] value = {7};
        set("k", 0, value);
        value[0] = 8;
        byte[] read = registers.get("k").orElseThrow().value();
        read[0] = 9;
        assertThat(registers.get("k").orElseThrow().value()).containsExactly(7);
    }

    @Test
    void aFencedWriteNeedsACurrentGrant() {
        RegisterSet fenced = new RegisterSet(INV, "k", 0, new byte[] {1}, "locks/a", 5);
        Reply.Failed f = failed(registers.set(fenced), ErrorCode.CONFLICT);
        assertThat(f.message()).isEqualTo("fencing token 5 is no longer a current grant of locks/a");
        assertThat(registers.size()).isZero();
        fences = (name, token) -> name.equals("locks/a") && token == 5 ? INV.sessionId() : null;
        assertThat(registers.set(fenced)).isEqualTo(new Reply.Written(1));
    }

    @Test
    void aFenceHeldByAnotherSessionIsRefusedUnlessTheWriteIsOfTypeTen() {
        RegisterSet fenced = new RegisterSet(INV, "k", 0, new byte[] {1}, "locks/a", 5);
        fences = (name, token) -> "session-1111111111";
        Reply.Failed f = failed(registers.set(fenced), ErrorCode.CONFLICT);
        assertThat(f.message())
                .isEqualTo("fencing token 5 of locks/a belongs to another session, not to the writing one");
        assertThat(registers.size()).isZero();
        assertThat(registers.set(fenced.withAnyFence())).isEqualTo(new Reply.Written(1));
    }

    @Test
    void malformedWritesThrowAndChangeNothing() {
        assertThatThrownBy(() -> set("k", 0, null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> set("k", -1, new byte[0])).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> set("k", 0, new byte[Limits.MAX_VALUE_BYTES + 1]))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> set("", 0, new byte[0])).isInstanceOf(InvalidArgumentException.class);
        assertThat(registers.size()).isZero();
    }

    @Test
    void quotasCountBytesAndEntries() {
        admission.setAccessRules(
                new SetAccessRules("user ops root\nrole root admin *\nlimit register-bytes 4\n"), null);
        assertThat(set("a", 0, new byte[3])).isEqualTo(new Reply.Written(1));
        Reply.Failed f = failed(set("b", 0, new byte[2]), ErrorCode.QUOTA_EXCEEDED);
        assertThat(f.message()).isEqualTo("register values would take 5 bytes; the quota register-bytes is 4");
        // Overwriting gives the old value's bytes back first.
        assertThat(set("a", 1, new byte[4])).isEqualTo(new Reply.Written(2));
        assertThat(registers.bytes()).isEqualTo(4);
        RegisterSet fresh = new RegisterSet(INV, "c", 0, new byte[0], null, 0);
        entries = 1_000_000;
        failed(registers.set(fresh), ErrorCode.QUOTA_EXCEEDED);
        assertThat(admission.refusals()).containsEntry("register-bytes", 1L).containsEntry("state-entries", 1L);
    }

    @Test
    void aCopyKeepsVersionsAndBytes() {
        set("a", 0, new byte[3]);
        set("a", 1, new byte[2]);
        Registers copy = fresh();
        registers.copyInto(copy);
        assertThat(copy.get("a").orElseThrow().version()).isEqualTo(2);
        assertThat(copy.bytes()).isEqualTo(2);
        copy.map().clear();
        copy.recount();
        assertThat(copy.bytes()).isZero();
        assertThat(registers.size()).isEqualTo(1);
    }
}
