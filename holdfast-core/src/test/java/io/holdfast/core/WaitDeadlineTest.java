package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class WaitDeadlineTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final Client c = d.open("c");

    @Test
    void aWaiterFailsAtItsDeadlineAndLeavesTheQueue() {
        token(a.acquire("x").apply());
        Command.Acquire wait = b.acquire("x").waitMillis(1_000).command();
        d.apply(wait);
        long deadline = d.time() + 1_000;

        d.tickAt(deadline - 1);
        assertThat(d.events()).isEmpty();
        assertThat(d.describe("x").waiters()).hasSize(1);

        d.tickAt(deadline);
        assertThat(d.events())
                .containsExactly(new Event.WaitTimedOut(b.id, wait.invocation().seq(), "x"));
        assertThat(d.describe("x").waiters()).isEmpty();
        failed(d.apply(wait), ErrorCode.TIMEOUT);
    }

    @Test
    void aTickAfterTheDeadlineAlsoFailsTheWaiter() {
        token(a.acquire("x").apply());
        b.acquire("x").waitMillis(1_000).apply();

        d.tickAt(d.time() + 5_000);

        assertThat(d.events()).singleElement().isInstanceOf(Event.WaitTimedOut.class);
        assertThat(d.describe("x").waiters()).isEmpty();
    }

    @Test
    void aReleaseAtAWaitersDeadlineTimesItOutInsteadOfGrantingIt() {
        long x = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(1_000).apply();
        long bSeq = b.lastSeq();
        c.acquire("x").waitMillis(5_000).apply();
        long cSeq = c.lastSeq();

        d.at(d.time() + 1_000); // no Tick yet: the release comes first
        a.release("x", x);

        assertThat(d.events())
                .containsExactly(new Event.WaitTimedOut(b.id, bSeq, "x"), new Event.Granted(c.id, cSeq, "x", x + 1));
    }

    @Test
    void aCompatibleWaiterBehindATimedOutHeadIsGranted() {
        token(a.acquire("x").shared().apply());
        b.acquire("x").waitMillis(1_000).apply(); // writer: blocks the readers behind it
        long bSeq = b.lastSeq();
        c.acquire("x").shared().waitMillis(5_000).apply();
        long cSeq = c.lastSeq();

        d.tickAt(d.time() + 1_000);

        assertThat(d.events())
                .containsExactly(
                        new Event.WaitTimedOut(b.id, bSeq, "x"),
                        new Event.Granted(c.id, cSeq, "x", d.table().lastToken()));
        assertThat(d.describe("x").holders()).hasSize(2);
        assertThat(d.describe("x").waiters()).isEmpty();
    }

    @Test
    void aTimedOutWaiterIsNeverGrantedLater() {
        long x = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(1_000).apply();
        d.tickAt(d.time() + 1_000);

        a.release("x", x);

        assertThat(d.events()).isEmpty();
        assertThat(d.table().resourceCount()).isZero();
    }

    @Test
    void aBusyTryIsNeverGrantedLater() {
        long x = token(a.acquire("x").apply());
        assertThat(b.acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);

        a.release("x", x);
        d.tickAt(d.time() + 60_000);

        assertThat(d.allEvents()).isEmpty();
        assertThat(d.table().resourceCount()).isZero();
    }

    @Test
    void aWaiterNotAtTheHeadTimesOutAloneAndTheQueueKeepsItsOrder() {
        token(a.acquire("x").apply());
        b.acquire("x").waitMillis(5_000).apply();
        c.acquire("x").waitMillis(1_000).apply();
        long cSeq = c.lastSeq();

        d.tickAt(d.time() + 1_000);

        assertThat(d.events()).containsExactly(new Event.WaitTimedOut(c.id, cSeq, "x"));
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(b.id);
    }

    @Test
    void nextDeadlineIsTheEarliestPendingDeadline() {
        assertThat(d.table().nextDeadline()).isEqualTo(Long.MAX_VALUE);
        long t0 = d.time();
        long x = token(a.acquire("x").lease(3_000).apply());
        assertThat(d.table().nextDeadline()).isEqualTo(t0 + 3_000);

        b.acquire("x").waitMillis(5_000).apply();
        token(a.acquire("y").apply());
        c.acquire("y").waitMillis(2_000).apply();
        assertThat(d.table().nextDeadline()).isEqualTo(t0 + 2_000);

        d.tickAt(t0 + 2_000);
        assertThat(d.table().nextDeadline()).isEqualTo(t0 + 3_000);

        // b is granted: its wait deadline no longer counts; its new hold has no lease.
        a.release("x", x);
        assertThat(d.table().nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }
}
