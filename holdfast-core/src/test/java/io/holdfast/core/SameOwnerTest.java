package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.HolderInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

/**
 * The table is not reentrant: an owner that asks again for what it holds is answered like anyone
 * who would wait for itself. Reentrancy is the client's {@code LeaseLock} view, which counts holds
 * over one grant without asking the table again.
 */
class SameOwnerTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");

    @Test
    void anOwnerAskingAgainIsASelfDeadlock() {
        token(a.acquire("x").apply());

        Reply.Failed f = failed(a.acquire("x").waitMillis(1_000).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).containsExactly("x");
        assertThat(d.describe("x").waiters()).isEmpty();
        assertThat(d.describe("x").holders()).extracting(HolderInfo::holdCount).containsExactly(1);
    }

    @Test
    void anOwnerTryingAgainFindsTheLockBusy() {
        long t = token(a.acquire("x").apply());

        assertThat(a.acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(a.acquire("x").owner(2).apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(d.table().lastToken()).isEqualTo(t);
    }

    @Test
    void oneReleaseFreesTheGrant() {
        long t = token(a.acquire("x").apply());

        assertThat(a.release("x", t)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(d.table().isCurrentHolder("x", t)).isFalse();
        assertThat(token(b.acquire("x").apply())).isGreaterThan(t);
    }

    @Test
    void upgradingASharedHoldToExclusiveIsADeadlock() {
        token(a.acquire("x").shared().apply());

        Reply.Failed f = failed(a.acquire("x").waitMillis(1_000).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).containsExactly("x");
        assertThat(d.describe("x").waiters()).isEmpty();
    }
}
