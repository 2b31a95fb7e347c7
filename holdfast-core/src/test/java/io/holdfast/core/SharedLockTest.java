package io.holdfast.core;

import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.holdfast.HolderInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class SharedLockTest {
    private final TableDriver d = new TableDriver();
    private final Client r1 = d.open("r1");
    private final Client r2 = d.open("r2");
    private final Client r3 = d.open("r3");
    private final Client w1 = d.open("w1");
    private final Client w2 = d.open("w2");

    @Test
    void readersHoldTogether() {
        long t1 = token(r1.acquire("x").shared().apply());
        long t2 = token(r2.acquire("x").shared().apply());
        long t3 = token(r3.acquire("x").shared().apply());

        assertThat(new long[] {t1, t2, t3}).isSorted().doesNotHaveDuplicates();
        assertThat(d.describe("x").holders())
                .extracting(HolderInfo::sessionId, HolderInfo::mode)
                .containsExactly(
                        tuple(r1.id, LockMode.SHARED), tuple(r2.id, LockMode.SHARED), tuple(r3.id, LockMode.SHARED));
    }

    @Test
    void aWriterWaitsForEveryReader() {
        long t1 = token(r1.acquire("x").shared().apply());
        long t2 = token(r2.acquire("x").shared().apply());
        assertThat(w1.acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(w1.acquire("x").waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        long wSeq = w1.lastSeq();

        r1.release("x", t1);
        assertThat(d.events()).isEmpty();

        r2.release("x", t2);
        assertThat(d.events())
                .containsExactly(new Event.Granted(w1.id, wSeq, "x", d.table().lastToken()));
        assertThat(d.describe("x").holders()).extracting(HolderInfo::mode).containsExactly(LockMode.EXCLUSIVE);
    }

    @Test
    void aReaderDoesNotBargeAheadOfAQueuedWriter() {
        token(r1.acquire("x").shared().apply());
        w1.acquire("x").waitMillis(10_000).apply();

        assertThat(r2.acquire("x").shared().apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(r2.acquire("x").shared().waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(d.describe("x").holders()).extracting(HolderInfo::sessionId).containsExactly(r1.id);
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(w1.id, r2.id);
    }

    @Test
    void aWriterReleaseGrantsEveryLeadingReaderInOneStep() {
        long w = token(w1.acquire("x").apply());
        r1.acquire("x").shared().waitMillis(10_000).apply();
        long s1 = r1.lastSeq();
        r2.acquire("x").shared().waitMillis(10_000).apply();
        long s2 = r2.lastSeq();
        w2.acquire("x").waitMillis(10_000).apply();
        r3.acquire("x").shared().waitMillis(10_000).apply();

        w1.release("x", w);

        assertThat(d.events())
                .containsExactly(new Event.Granted(r1.id, s1, "x", w + 1), new Event.Granted(r2.id, s2, "x", w + 2));
        assertThat(d.describe("x").holders()).extracting(HolderInfo::sessionId).containsExactly(r1.id, r2.id);
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(w2.id, r3.id);
    }
}
