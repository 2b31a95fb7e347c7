package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.HolderInfo;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class SemaphoreTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final Client c = d.open("c");

    @Test
    void grantsPermitsWhileTheyLastAndReturnsThemOnRelease() {
        long ta = token(a.acquire("s").permits(3, 5).apply());
        long tb = token(b.acquire("s").permits(2, 5).apply());
        assertThat(c.acquire("s").permits(1, 5).apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(d.describe("s").holders()).extracting(HolderInfo::permits).containsExactly(3, 2);
        assertThat(d.describe("s").semaphore()).isTrue();
        assertThat(d.describe("s").maxPermits()).isEqualTo(5);

        c.acquire("s").permits(3, 5).waitMillis(10_000).apply();
        long cSeq = c.lastSeq();
        b.release("s", tb);
        assertThat(d.events()).isEmpty(); // 2 free, 3 wanted

        a.release("s", ta);
        assertThat(d.events()).containsExactly(new Event.Granted(c.id, cSeq, "s", tb + 1));
        assertThat(d.describe("s").holders()).extracting(HolderInfo::permits).containsExactly(3);
    }

    @Test
    void aLargeRequestAtTheHeadIsNotOvertakenBySmallerOnes() {
        long ta = token(a.acquire("s").permits(3, 5).apply());
        b.acquire("s").permits(4, 5).waitMillis(10_000).apply();
        long bSeq = b.lastSeq();

        // Two permits are free, but b is first.
        assertThat(c.acquire("s").permits(1, 5).apply()).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(c.acquire("s").permits(2, 5).waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(d.describe("s").waiters()).extracting(WaiterInfo::sessionId).containsExactly(b.id, c.id);

        a.release("s", ta);
        assertThat(d.events()).containsExactly(new Event.Granted(b.id, bSeq, "s", ta + 1));
        assertThat(d.describe("s").waiters()).extracting(WaiterInfo::sessionId).containsExactly(c.id);
    }

    @Test
    void theSemaphoreSizeMustMatch() {
        token(a.acquire("s").permits(1, 5).apply());

        Reply.Failed f = failed(b.acquire("s").permits(1, 6).apply(), ErrorCode.INVALID_ARGUMENT);

        assertThat(f.message()).contains("s is a semaphore with 5 permits");
        assertThat(d.describe("s").holders()).hasSize(1);
    }

    @Test
    void moreThanTheSemaphoreSizeIsRefused() {
        Reply.Failed f = failed(a.acquire("s").permits(6, 5).waitMillis(1_000).apply(), ErrorCode.INVALID_ARGUMENT);

        assertThat(f.message()).contains("permits");
        assertThat(d.table().resourceCount()).isZero();
    }

    @Test
    void aNameIsEitherALockOrASemaphore() {
        token(a.acquire("lock").apply());
        token(a.acquire("sem").permits(1, 2).apply());

        assertThat(failed(b.acquire("lock").permits(1, 2).apply(), ErrorCode.INVALID_ARGUMENT)
                        .message())
                .contains("lock is a lock");
        assertThat(failed(b.acquire("sem").apply(), ErrorCode.INVALID_ARGUMENT).message())
                .contains("sem is a semaphore");
        assertThat(failed(b.acquire("sem").shared().apply(), ErrorCode.INVALID_ARGUMENT)
                        .message())
                .contains("not a lock");
    }
}
