package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.granted;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.holdfast.ErrorCode;
import io.holdfast.HolderInfo;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class ExclusiveLockTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final Client c = d.open("c");

    @Test
    void grantsAFreeLockWithAFreshToken() {
        Reply.Granted g = granted(a.acquire("x").apply());

        assertThat(g.token()).isEqualTo(d.table().lastToken()).isPositive();
        assertThat(d.table().isCurrentHolder("x", g.token())).isTrue();
        assertThat(d.events()).isEmpty();
    }

    @Test
    void aTryOnAHeldLockIsBusyAndQueuesNothing() {
        token(a.acquire("x").apply());

        assertThat(b.acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(d.describe("x").waiters()).isEmpty();
    }

    @Test
    void waitersQueueInArrivalOrderWithTheirDeadlines() {
        token(a.acquire("x").apply());
        assertThat(b.acquire("x").waitMillis(3_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        d.advance(100);
        assertThat(c.acquire("x").waitMillis(1_000).apply()).isEqualTo(Reply.Queued.INSTANCE);

        assertThat(d.describe("x").waiters())
                .extracting(WaiterInfo::sessionId, w -> w.timeLeft().toMillis())
                .containsExactly(tuple(b.id, 2_900L), tuple(c.id, 1_000L));
    }

    @Test
    void releaseGrantsTheHeadOfTheQueueInTheSameApply() {
        long first = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(10_000).apply();
        long bSeq = b.lastSeq();
        c.acquire("x").waitMillis(10_000).apply();
        long cSeq = c.lastSeq();

        assertThat(a.release("x", first)).isEqualTo(new Reply.Ok(0));
        assertThat(d.events()).singleElement().isInstanceOfSatisfying(Event.Granted.class, g -> {
            assertThat(g.sessionId()).isEqualTo(b.id);
            assertThat(g.seq()).isEqualTo(bSeq);
            assertThat(g.name()).isEqualTo("x");
            assertThat(g.token()).isGreaterThan(first);
        });
        long second = ((Event.Granted) d.events().get(0)).token();
        assertThat(d.describe("x").holders())
                .extracting(HolderInfo::fencingToken)
                .containsExactly(second);
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(c.id);

        assertThat(b.release("x", second)).isEqualTo(new Reply.Ok(0));
        assertThat(d.events()).containsExactly(new Event.Granted(c.id, cSeq, "x", second + 1));
    }

    @Test
    void tokensStrictlyIncreaseAcrossNames() {
        long x1 = token(a.acquire("x").apply());
        long y1 = token(b.acquire("y").apply());
        a.release("x", x1);
        long x2 = token(c.acquire("x").apply());
        long z1 = token(a.acquire("z").apply());

        assertThat(new long[] {x1, y1, x2, z1}).isSorted().doesNotHaveDuplicates();
        assertThat(d.table().lastToken()).isEqualTo(z1);
    }

    @Test
    void onlyTheHolderCanReleaseAndOnlyWithItsToken() {
        long x = token(a.acquire("x").apply());

        failed(b.release("x", x), ErrorCode.NOT_OWNER);
        failed(a.release("x", x + 1), ErrorCode.NOT_OWNER);
        failed(a.release("other", x), ErrorCode.NOT_OWNER);
        assertThat(d.table().isCurrentHolder("x", x)).isTrue();

        assertThat(a.release("x", x)).isEqualTo(new Reply.Ok(0));
        assertThat(d.table().isCurrentHolder("x", x)).isFalse();
        assertThat(d.table().resourceCount()).isZero();
    }
}
