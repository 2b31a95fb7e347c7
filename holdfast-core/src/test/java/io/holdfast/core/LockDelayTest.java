package io.holdfast.core;

import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Event.Reason;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class LockDelayTest {
    private static final long DELAY = 2_000;

    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a", DELAY);
    private final Client b = d.open("b");
    private final Client c = d.open("c");

    @Test
    void anExpiredHoldersLockStaysUngrantableForTheDelay() {
        long x = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(60_000).apply();
        long bSeq = b.lastSeq();
        long expiredAt = d.time();

        d.expire(a);
        assertThat(d.events())
                .containsExactly(new Event.Lost(a.id, "x", x, Reason.SESSION_EXPIRED), new Event.SessionExpired(a.id));
        assertThat(d.table().nextDeadline()).isEqualTo(expiredAt + DELAY);

        assertThat(c.acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(d.describe("x").holders()).isEmpty();
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(b.id);

        d.tickAt(expiredAt + DELAY - 1);
        assertThat(d.events()).isEmpty();

        d.tickAt(expiredAt + DELAY);
        assertThat(d.events()).containsExactly(new Event.Granted(b.id, bSeq, "x", x + 1));
    }

    @Test
    void aDelayedLockWithoutWaitersBecomesFreeAfterTheDelay() {
        token(a.acquire("x").apply());
        long expiredAt = d.time();
        d.expire(a);
        assertThat(d.table().resourceCount()).isEqualTo(1);

        d.tickAt(expiredAt + DELAY);

        assertThat(d.table().resourceCount()).isZero();
        assertThat(token(c.acquire("x").apply())).isPositive();
    }

    @Test
    void closingTheSessionAppliesNoDelay() {
        long x = token(a.acquire("x").apply());
        long y = token(a.acquire("y").owner(2).apply());
        b.acquire("x").waitMillis(60_000).apply();
        long bSeq = b.lastSeq();

        a.close();

        assertThat(d.events()).containsExactly(new Event.Granted(b.id, bSeq, "x", y + 1));
        assertThat(d.table().nextDeadline()).isEqualTo(Long.MAX_VALUE);
        assertThat(token(c.acquire("y").apply())).isGreaterThan(x);
    }

    @Test
    void expiryWithoutLockDelayFreesAtOnce() {
        long x = token(b.acquire("x").apply());
        c.acquire("x").waitMillis(60_000).apply();

        d.expire(b);

        assertThat(d.events()).last().isEqualTo(new Event.Granted(c.id, c.lastSeq(), "x", x + 1));
    }
}
