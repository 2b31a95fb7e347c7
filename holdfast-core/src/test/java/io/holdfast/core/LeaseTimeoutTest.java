package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Event.Reason;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class LeaseTimeoutTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final long t0 = d.time();

    @Test
    void anUnrenewedLeaseIsLostAtItsTimeoutAndTheNextWaiterIsGranted() {
        long x = token(a.acquire("x").lease(500).apply());
        b.acquire("x").waitMillis(10_000).apply();
        long bSeq = b.lastSeq();

        d.tickAt(t0 + 499);
        assertThat(d.events()).isEmpty();
        assertThat(d.table().isCurrentHolder("x", x)).isTrue();

        d.tickAt(t0 + 500);
        assertThat(d.events())
                .containsExactly(
                        new Event.Lost(a.id, "x", x, Reason.LEASE_TIMEOUT), new Event.Granted(b.id, bSeq, "x", x + 1));
        assertThat(d.table().isCurrentHolder("x", x)).isFalse();
        failed(a.release("x", x), ErrorCode.NOT_OWNER);
    }

    @Test
    void renewPushesTheDeadlineAndTheOldDeadlinePassesHarmlessly() {
        long x = token(a.acquire("x").lease(500).apply());

        d.at(t0 + 300);
        assertThat(a.renew("x", x)).isEqualTo(new Reply.Ok(t0 + 800));
        assertThat(d.table().nextDeadline()).isEqualTo(t0 + 800);

        d.tickAt(t0 + 500); // the first deadline's timer entry is stale now
        assertThat(d.events()).isEmpty();
        assertThat(d.table().isCurrentHolder("x", x)).isTrue();

        d.tickAt(t0 + 799);
        assertThat(d.events()).isEmpty();

        d.tickAt(t0 + 800);
        assertThat(d.events()).containsExactly(new Event.Lost(a.id, "x", x, Reason.LEASE_TIMEOUT));
        assertThat(d.table().resourceCount()).isZero();
    }

    @Test
    void aRenewalThatArrivesAfterTheDeadlineButBeforeTheTickIsRefused() {
        long x = token(a.acquire("x").lease(500).apply());

        d.at(t0 + 500);
        failed(a.renew("x", x), ErrorCode.NOT_OWNER);

        d.tickAt(t0 + 501);
        assertThat(d.events()).containsExactly(new Event.Lost(a.id, "x", x, Reason.LEASE_TIMEOUT));
    }

    @Test
    void onlyTheHolderCanRenew() {
        long x = token(a.acquire("x").lease(500).apply());

        failed(b.renew("x", x), ErrorCode.NOT_OWNER);
        failed(a.renew("x", x + 1), ErrorCode.NOT_OWNER);
        failed(a.renew("y", x), ErrorCode.NOT_OWNER);

        d.tickAt(t0 + 500);
        assertThat(d.events()).containsExactly(new Event.Lost(a.id, "x", x, Reason.LEASE_TIMEOUT));
    }

    @Test
    void renewingAGrantWithoutLeaseIsAHarmlessNoOp() {
        long x = token(a.acquire("x").apply());

        assertThat(a.renew("x", x)).isEqualTo(new Reply.Ok(0));
        assertThat(d.table().nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aGrantedWaiterGetsItsOwnLeaseFromTheTimeOfTheGrant() {
        long x = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(10_000).lease(1_000).apply();

        d.at(t0 + 2_000);
        a.release("x", x);
        long bToken = ((Event.Granted) d.events().get(0)).token();

        assertThat(d.table().nextDeadline()).isEqualTo(t0 + 3_000);
        d.tickAt(t0 + 3_000);
        assertThat(d.events()).containsExactly(new Event.Lost(b.id, "x", bToken, Reason.LEASE_TIMEOUT));
    }
}
