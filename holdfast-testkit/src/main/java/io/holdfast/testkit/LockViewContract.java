package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;

/** The {@link Lock} view: reentrant per thread, owned by the locking thread. */
abstract class LockViewContract extends ContractSupport {
    LockViewContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void lockAndUnlock() {
        String n = name("a");
        Lock view = open().lock(n).asLock();
        view.lock();
        assertThat(isFree(observer().lock(n)))
                .as("the lock while the view holds it")
                .isFalse();
        view.unlock();
        assertThat(isFree(observer().lock(n))).as("the lock after unlock").isTrue();
    }

    @Test
    void theViewIsReentrantPerThread() {
        String n = name("a");
        Lock view = open().lock(n).asLock();
        view.lock();
        assertThat(view.tryLock()).as("tryLock by the thread that holds").isTrue();
        view.lock();
        view.unlock();
        view.unlock();
        assertThat(isFree(observer().lock(n))).as("after 2 of 3 unlocks").isFalse();
        assertThat(inBackground("other-thread", view::tryLock).join(PROMPTLY))
                .as("tryLock by another thread through the same view")
                .isFalse();
        view.unlock();
        assertThat(isFree(observer().lock(n))).as("after 3 of 3 unlocks").isTrue();
    }

    /**
     * Before, a reentrant call answered from the count alone: a thread that checked its hold with
     * {@code tryLock} (Spring Integration's leader initiator does) went on believing it held a
     * revoked lock while another held it.
     */
    @Test
    void aThreadWhoseHoldWasLostIsToldAtItsNextReentrantCall() throws Exception {
        assumeCapability(io.holdfast.Capability.REVOKE);
        String n = name("lost");
        Lock view = open().lock(n).asLock();
        view.lock();
        assertThat(observer().admin().revoke(n)).isEqualTo(1);
        // Polled on this thread: the view's holds are per thread.
        eventually(PROMPTLY)
                .pollInSameThread()
                .alias("the view's reentrant tryLock to say the hold is gone")
                .until(() -> {
                    if (view.tryLock()) {
                        view.unlock(); // still valid: undo the reentry and look again
                        return false;
                    }
                    return true;
                });
        assertThatThrownBy(view::unlock)
                .as("the lost hold was forgotten")
                .isInstanceOf(io.holdfast.NotOwnerException.class);
        view.lock();
        assertThat(isFree(observer().lock(n))).as("locked afresh").isFalse();
        view.unlock();

        view.lock();
        observer().admin().revoke(n);
        eventually(PROMPTLY)
                .pollInSameThread()
                .alias("the view's reentrant lock() to throw")
                .until(() -> {
                    try {
                        view.lock();
                        view.unlock(); // still valid: undo the reentry and look again
                        return false;
                    } catch (io.holdfast.LockLostException lost) {
                        return true;
                    }
                });
        assertThatThrownBy(view::unlock).isInstanceOf(io.holdfast.NotOwnerException.class);
    }

    @Test
    void unlockByAThreadThatDoesNotHoldIsIllegal() throws InterruptedException {
        String n = name("a");
        Lock view = open().lock(n).asLock();
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch mayUnlock = new CountDownLatch(1);
        Background<Void> owner = inBackground("owner", () -> {
            view.lock();
            try {
                locked.countDown();
                assertThat(mayUnlock.await(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS))
                        .isTrue();
            } finally {
                view.unlock();
            }
            return null;
        });
        assertThat(locked.await(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        assertThatThrownBy(view::unlock)
                .as("unlock by a thread that did not lock")
                .isInstanceOf(IllegalMonitorStateException.class);
        assertThat(isFree(observer().lock(n)))
                .as("the lock after the refused unlock")
                .isFalse();

        mayUnlock.countDown();
        owner.join(PROMPTLY);
        assertThat(isFree(observer().lock(n)))
                .as("the lock after its owner unlocked")
                .isTrue();
        assertThatThrownBy(() -> open().lock(name("b")).asLock().unlock())
                .as("unlock of a view never locked")
                .isInstanceOf(IllegalMonitorStateException.class);
    }

    @Test
    void aListenedViewTellsEachEntryAndEachExit() {
        String n = name("a");
        java.util.List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        Lock view = open().lock(n).asLock(new io.holdfast.DistributedLock.HoldListener() {
            @Override
            public void entered() {
                told.add("entered");
            }

            @Override
            public void left() {
                told.add("left");
            }

            @Override
            public void lost(int entries) {
                told.add("lost " + entries);
            }
        });
        view.lock();
        assertThat(view.tryLock()).isTrue();
        view.unlock();
        view.unlock();
        assertThatThrownBy(view::unlock).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(told).containsExactly("entered", "entered", "left", "left");
        assertThat(isFree(observer().lock(n)))
                .as("the lock after the last exit")
                .isTrue();
    }

    @Test
    void tryLockReturnsFalseWhenTheLockStaysBusy() throws InterruptedException {
        String n = name("a");
        take(open().lock(n));
        Lock view = open().lock(n).asLock();
        assertThat(view.tryLock()).as("tryLock of a held lock").isFalse();
        long start = System.nanoTime();
        assertThat(view.tryLock(200, TimeUnit.MILLISECONDS))
                .as("tryLock(200ms) of a held lock")
                .isFalse();
        assertThat(millisSince(start)).as("milliseconds tryLock(200ms) took").isBetween(180L, 3_000L);
    }
}
