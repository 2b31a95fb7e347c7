package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class DeadlockDetectionTest {
    private static final long WAIT = 60_000;

    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final Client c = d.open("c");

    @Test
    void aWaitThatClosesATwoOwnerCycleIsRefusedAndChangesNothing() {
        token(a.acquire("x").apply());
        long y = token(b.acquire("y").apply());
        assertThat(a.acquire("y").waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);
        long aSeq = a.lastSeq();
        LockInfo xBefore = d.describe("x");
        LockInfo yBefore = d.describe("y");

        Reply.Failed f = failed(b.acquire("x").waitMillis(WAIT).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).containsExactly("x", "y");
        assertThat(f.message()).contains("x -> y -> x");
        assertThat(d.events()).isEmpty();
        assertThat(d.describe("x")).isEqualTo(xBefore);
        assertThat(d.describe("y")).isEqualTo(yBefore);
        // b may still try (a try never waits, so it cannot deadlock), and can still let a go on.
        assertThat(b.acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);
        b.release("y", y);
        assertThat(d.events())
                .containsExactly(new Event.Granted(a.id, aSeq, "y", d.table().lastToken()));
    }

    @Test
    void aThreeOwnerCycleIsNamedInWaitOrder() {
        token(a.acquire("x").apply());
        token(b.acquire("y").apply());
        token(c.acquire("z").apply());
        a.acquire("y").waitMillis(WAIT).apply();
        b.acquire("z").waitMillis(WAIT).apply();

        Reply.Failed f = failed(c.acquire("x").waitMillis(WAIT).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).containsExactly("x", "y", "z");
        assertThat(d.describe("x").waiters()).isEmpty();
    }

    @Test
    void aCycleThroughAReaderQueuedBehindAWriterIsFound() {
        // c reads q; writer b queues for q; reader a holds y and queues behind b (no barging), so
        // a waits for b, which waits for c. When c then asks for y, the three wait in a circle.
        token(c.acquire("q").shared().apply());
        b.acquire("q").waitMillis(WAIT).apply();
        token(a.acquire("y").apply());
        assertThat(a.acquire("q").shared().waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(d.describe("q").waiters()).extracting(WaiterInfo::sessionId).containsExactly(b.id, a.id);

        Reply.Failed f = failed(c.acquire("y").waitMillis(WAIT).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).startsWith("y").contains("q");
        assertThat(d.describe("y").waiters()).isEmpty();
    }

    @Test
    void anOwnerThatWouldQueueBehindAWaiterThatWaitsForItIsRefused() {
        // a reads x; writer b queues for x and so waits for a. If a (not reentrant) asked for x
        // again, the fair queue would put it behind b: each would wait for the other.
        token(a.acquire("x").shared().apply());
        b.acquire("x").waitMillis(WAIT).apply();

        Reply.Failed f = failed(a.acquire("x").shared().waitMillis(WAIT).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).isNotEmpty().containsOnly("x");
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(b.id);
    }

    @Test
    void aReaderWaitingOutALockDelayDoesNotWaitForTheOtherReaders() {
        Client e = d.open("e", 2_000);
        long t0 = d.time();
        token(a.acquire("x").shared().apply());
        token(e.acquire("x").shared().apply());
        d.expire(e); // x stays readable by a, but grants nothing for 2 s
        token(c.acquire("y").apply());
        assertThat(c.acquire("x").shared().waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);
        long cSeq = c.lastSeq();

        // c waits for the delay only, not for a: a's wait for c closes no cycle.
        assertThat(a.acquire("y").waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);

        d.tickAt(t0 + 2_000);
        assertThat(d.events())
                .containsExactly(new Event.Granted(c.id, cSeq, "x", d.table().lastToken()));
    }

    @Test
    void ownersOfOneSessionAreSeparateNodes() {
        token(a.acquire("x").owner(1).apply());
        token(a.acquire("y").owner(2).apply());
        assertThat(a.acquire("x").owner(2).waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);

        Reply.Failed f = failed(a.acquire("y").owner(1).waitMillis(WAIT).apply(), ErrorCode.DEADLOCK);

        assertThat(f.cycle()).containsExactly("y", "x");
    }

    @Test
    void aPlainChainIsNotADeadlock() {
        token(a.acquire("x").apply());
        token(b.acquire("y").apply());
        assertThat(b.acquire("x").waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);

        assertThat(c.acquire("y").waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(c.acquire("x").owner(2).waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(b.id, c.id);
    }

    @Test
    void semaphoreWaitsAreLeftOutOfTheGraph() {
        token(a.acquire("x").apply());
        token(b.acquire("s").permits(2, 2).apply());
        // a waits for permits that b holds; b then waits for the lock that a holds.
        assertThat(a.acquire("s").permits(1, 2).waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);

        assertThat(b.acquire("x").waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);
    }

    @Test
    void aSemaphoreWaitIsNeverRefusedAsADeadlock() {
        token(a.acquire("x").apply());
        token(b.acquire("s").permits(2, 2).apply());
        assertThat(b.acquire("x").waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);

        assertThat(a.acquire("s").permits(1, 2).waitMillis(WAIT).apply()).isEqualTo(Reply.Queued.INSTANCE);
    }
}
