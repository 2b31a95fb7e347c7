package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.granted;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.HolderInfo;
import io.holdfast.LockMode;
import io.holdfast.core.TableDriver.Client;
import org.junit.jupiter.api.Test;

class ReentrancyTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");

    @Test
    void aReentrantOwnerGetsTheSameGrantTwiceAndMustReleaseTwice() {
        long t = token(a.acquire("x").reentrant().apply());

        Reply.Granted again = granted(a.acquire("x").reentrant().apply());
        assertThat(again.token()).isEqualTo(t);
        assertThat(again.holdCount()).isEqualTo(2);
        assertThat(d.table().lastToken()).isEqualTo(t);
        assertThat(d.describe("x").holders()).extracting(HolderInfo::holdCount).containsExactly(2);

        assertThat(a.release("x", t)).isEqualTo(new Reply.Ok(1));
        assertThat(d.table().isCurrentHolder("x", t)).isTrue();
        assertThat(b.acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);

        assertThat(a.release("x", t)).isEqualTo(new Reply.Ok(0));
        assertThat(d.table().isCurrentHolder("x", t)).isFalse();
        assertThat(token(b.acquire("x").apply())).isGreaterThan(t);
    }

    @Test
    void aNonReentrantOwnerAskingAgainIsASelfDeadlock() {
        token(a.acquire("x").apply());

        Reply.Failed f = failed(a.acquire("x").waitMillis(1_000).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).containsExactly("x");
        assertThat(d.describe("x").waiters()).isEmpty();
    }

    @Test
    void anotherOwnerOfTheSameSessionDoesNotReenter() {
        token(a.acquire("x").reentrant().apply());

        assertThat(a.acquire("x").reentrant().owner(2).apply()).isEqualTo(Reply.Busy.INSTANCE);
    }

    @Test
    void upgradingASharedHoldToExclusiveIsADeadlock() {
        token(a.acquire("x").shared().reentrant().apply());

        Reply.Failed f = failed(a.acquire("x").reentrant().waitMillis(1_000).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).containsExactly("x");
        assertThat(d.describe("x").holders()).extracting(HolderInfo::holdCount).containsExactly(1);
        assertThat(d.describe("x").waiters()).isEmpty();
    }

    @Test
    void anExclusiveHolderAskingForSharedReentersItsGrant() {
        long t = token(a.acquire("x").reentrant().apply());

        Reply.Granted g = granted(a.acquire("x").shared().reentrant().apply());

        assertThat(g.token()).isEqualTo(t);
        assertThat(g.holdCount()).isEqualTo(2);
        assertThat(d.describe("x").holders()).singleElement().satisfies(h -> {
            assertThat(h.mode()).isEqualTo(LockMode.EXCLUSIVE);
            assertThat(h.holdCount()).isEqualTo(2);
        });
    }

    @Test
    void aReentrantGrantDoesNotWaitBehindQueuedWaiters() {
        long t = token(a.acquire("x").reentrant().apply());
        b.acquire("x").waitMillis(10_000).apply();

        Reply.Granted g = granted(a.acquire("x").reentrant().waitMillis(10_000).apply());

        assertThat(g.token()).isEqualTo(t);
        assertThat(g.holdCount()).isEqualTo(2);
    }
}
