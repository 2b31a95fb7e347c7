package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockMode;
import io.holdfast.model.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link Queues} on its own: one token counter for every grant, fair FIFO queues granted in the
 * step that frees them, multi-locks granted as a unit, deadlines and lock-delays. Commands that
 * drive it are tested through the table ({@link ExclusiveLockTest}, {@link MultiLockTableTest} and
 * the property tests).
 */
class QueuesTest {
    private final Queues queues = new Queues(Set.of());
    private final List<Event> events = new ArrayList<>();
    private final Session s1 = new Session("session-1111111111", null, "one", 10_000, 0, 0);
    private final Session s2 = new Session("session-2222222222", null, "two", 10_000, 0, 0);
    private final Session s3 = new Session("session-3333333333", null, "three", 10_000, 0, 0);

    private Waiter waiter(Session s, Resource r, long seq, LockMode mode, long deadline) {
        return new Waiter(s, r, 1, seq, mode, 1, queues.now(), deadline, 0);
    }

    @Test
    void everyGrantTakesTheNextTokenWhateverItsName() {
        Hold a = queues.grant(s1, queues.lock("a"), 1, LockMode.EXCLUSIVE, 1, 0);
        Hold b = queues.grant(s2, queues.lock("b"), 1, LockMode.SHARED, 1, 0);
        Hold c = queues.grant(s3, queues.lock("b"), 1, LockMode.SHARED, 1, 0);
        assertThat(List.of(a.token, b.token, c.token)).containsExactly(1L, 2L, 3L);
        assertThat(queues.lastToken()).isEqualTo(3);
        assertThat(queues.isCurrentHolder("b", 3)).isTrue();
        assertThat(queues.isCurrentHolder("a", 3)).isFalse();
    }

    @Test
    void aFreedLockGoesToTheHeadOfItsQueueThenToTheReadersBehindIt() {
        Resource r = queues.lock("a");
        Hold h = queues.grant(s1, r, 1, LockMode.EXCLUSIVE, 1, 0);
        queues.enqueue(waiter(s2, r, 7, LockMode.EXCLUSIVE, 5_000));
        queues.enqueue(waiter(s3, r, 8, LockMode.SHARED, 5_000));
        assertThat(queues.free(r, LockMode.SHARED, 1)).isFalse();
        queues.detach(h, io.holdfast.WatchEvent.Cause.RELEASED);
        queues.grantWaiters(r, events::add);
        assertThat(events).containsExactly(new Event.Granted(s2.id(), 7, "a", 2));
        assertThat(r.waiterCount).isEqualTo(1);
        queues.detach(r.holdersHead, io.holdfast.WatchEvent.Cause.RELEASED);
        queues.grantWaiters(r, events::add);
        assertThat(events).endsWith(new Event.Granted(s3.id(), 8, "a", 3));
        assertThat(r.queueHead).isNull();
    }

    @Test
    void aMultiLockIsGrantedOnlyWhenItHeadsEveryQueue() {
        Resource a = queues.lock("a");
        Resource b = queues.lock("b");
        Hold onB = queues.grant(s1, b, 1, LockMode.EXCLUSIVE, 1, 0);
        Waiter[] group = {waiter(s2, a, 4, LockMode.EXCLUSIVE, 5_000), waiter(s2, b, 4, LockMode.EXCLUSIVE, 5_000)};
        queues.enqueueGroup(group);
        queues.grantWaiters(a, events::add);
        assertThat(events).isEmpty();
        assertThat(a.holdersHead).isNull();
        queues.detach(onB, io.holdfast.WatchEvent.Cause.RELEASED);
        queues.grantWaiters(b, events::add);
        assertThat(events)
                .containsExactly(new Event.Granted(s2.id(), 4, "a", 2), new Event.Granted(s2.id(), 4, "b", 3));
        assertThat(Queues.names(group[1])).isEqualTo("a, b");
    }

    @Test
    void aWaitPastItsDeadlineTimesOutAndIdleLocksAreDropped() {
        Resource r = queues.lock("a");
        Hold h = queues.grant(s1, r, 1, LockMode.EXCLUSIVE, 1, 0);
        queues.enqueue(waiter(s2, r, 9, LockMode.EXCLUSIVE, 1_000));
        assertThat(queues.nextDeadline()).isEqualTo(1_000);
        queues.advance(1_000);
        queues.advance(500); // the clock never goes back
        assertThat(queues.now()).isEqualTo(1_000);
        queues.detach(h, io.holdfast.WatchEvent.Cause.RELEASED);
        queues.grantWaiters(r, events::add);
        assertThat(events).containsExactly(new Event.WaitTimedOut(s2.id(), 9, "a"));
        queues.dropIfIdle(r);
        assertThat(queues.size()).isZero();
    }

    @Test
    void aLockDelayHoldsTheQueueBackUntilItEnds() {
        Resource r = queues.lock("a");
        queues.block(r, 2_000);
        queues.enqueue(waiter(s2, r, 3, LockMode.EXCLUSIVE, 10_000));
        queues.grantWaiters(r, events::add);
        assertThat(events).isEmpty();
        queues.advance(2_000);
        Timers.Entry due = queues.pollDue();
        assertThat(due.kind()).isEqualTo(Timers.UNBLOCK);
        queues.unblock((Resource) due.target(), events::add);
        assertThat(r.blockedUntil).isZero();
        assertThat(events).containsExactly(new Event.Granted(s2.id(), 3, "a", 1));
    }
}
