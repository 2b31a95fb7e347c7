package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedLock;
import io.holdfast.Election;
import io.holdfast.HoldfastException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.VersionedRegister;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchEvent.Cause;
import io.holdfast.WatchEvent.Type;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@link LockClient#watch(WatchTarget, WatchListener)}, {@link LockClient#awaitFree} and {@link
 * Election#observe}: the state first, then the changes in order; with {@link Capability#WATCH}
 * every change with its cause, else what polling sees ({@link Capability#INSPECT}).
 */
abstract class WatchContract extends ContractSupport {
    WatchContract(LockProviderContract suite) {
        super(suite);
    }

    /** A listener that keeps what it is told, for a test to take in order. */
    static final class Recorded implements WatchListener {
        final BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        final CountDownLatch ended = new CountDownLatch(1);
        volatile HoldfastException endedWith;

        @Override
        public void onEvent(WatchEvent event) {
            events.add(event);
        }

        @Override
        public void onEnd(HoldfastException cause) {
            endedWith = cause;
            ended.countDown();
        }

        /** The next event; fails if none comes promptly. */
        WatchEvent next() throws InterruptedException {
            WatchEvent e = events.poll(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(e).as("a watch event within " + PROMPTLY).isNotNull();
            return e;
        }

        /** The next event that matches, skipping (and returning through {@code skipped}) others. */
        WatchEvent nextMatching(Predicate<WatchEvent> wanted, List<WatchEvent> skipped) throws InterruptedException {
            long deadline = System.nanoTime() + PROMPTLY.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                WatchEvent e = events.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
                assertThat(e)
                        .as("a matching watch event within " + PROMPTLY + "; skipped " + skipped)
                        .isNotNull();
                if (wanted.test(e)) {
                    return e;
                }
                skipped.add(e);
            }
        }
    }

    private Watch watch(WatchTarget target, Recorded recorded) {
        Watch watch = observer().watch(target, recorded);
        assertThat(watch.isOpen()).isTrue();
        return watch;
    }

    private static Predicate<WatchEvent> is(Type type, String name) {
        return e -> e.type() == type && e.name().equals(name);
    }

    @Test
    void aWatchStartsWithTheStateThenReportsEachHolderInOrder() throws Exception {
        assumeCapability(Capability.INSPECT);
        String n = name("watched");
        Lease first = take(open().lock(n));
        Recorded seen = new Recorded();
        try (Watch watch = watch(WatchTarget.lock(n), seen)) {
            WatchEvent state = seen.next();
            assertThat(state.type()).isEqualTo(Type.STATE);
            assertThat(state.locks()).singleElement().satisfies(info -> {
                assertThat(info.name()).isEqualTo(n);
                assertThat(info.holders())
                        .singleElement()
                        .satisfies(h -> assertThat(h.fencingToken()).isEqualTo(first.fencingToken()));
            });
            first.release();
            WatchEvent released = seen.next();
            assertThat(released.type()).isEqualTo(Type.RELEASED);
            assertThat(released.fencingToken()).isEqualTo(first.fencingToken());
            assertThat(released.cause()).isEqualTo(has(Capability.WATCH) ? Cause.RELEASED : Cause.UNKNOWN);
            LockClient second = open();
            Lease next = take(second.lock(n));
            WatchEvent acquired = seen.next();
            assertThat(acquired.type()).isEqualTo(Type.ACQUIRED);
            assertThat(acquired.name()).isEqualTo(n);
            assertThat(acquired.fencingToken()).isEqualTo(next.fencingToken()).isGreaterThan(first.fencingToken());
            assertThat(acquired.sessionId()).isEqualTo(second.sessionId());
            assertThat(acquired.position()).isNotEmpty().isNotEqualTo(released.position());
            assertThat(watch.position()).isEqualTo(acquired.position());
            next.release();
            assertThat(seen.next().type()).isEqualTo(Type.RELEASED);
        }
        assertThat(seen.ended.await(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS))
                .as("onEnd after close")
                .isTrue();
        assertThat(seen.endedWith).as("a closed watch ends without a failure").isNull();
    }

    @Test
    void aPrefixWatchReportsOnlyTheNamesUnderItsPrefix() throws Exception {
        assumeCapability(Capability.INSPECT);
        String jobs = name("jobs/");
        Recorded seen = new Recorded();
        try (Watch watch = watch(WatchTarget.prefix(jobs), seen)) {
            assertThat(seen.next().type()).isEqualTo(Type.STATE);
            LockClient client = open();
            Lease outside = take(client.lock(name("other")));
            Lease a = take(client.lock(jobs + "a"));
            WatchEvent acquired = seen.next();
            assertThat(acquired.type()).isEqualTo(Type.ACQUIRED);
            assertThat(acquired.name()).isEqualTo(jobs + "a");
            assertThat(acquired.fencingToken()).isEqualTo(a.fencingToken());
            outside.release();
            Lease b = take(client.lock(jobs + "b"));
            WatchEvent second = seen.next();
            assertThat(second.name())
                    .as("the lock outside the prefix is never told")
                    .isEqualTo(jobs + "b");
            assertThat(second.fencingToken()).isEqualTo(b.fencingToken());
        }
    }

    @Test
    void waitsAreReportedWhenTheyBeginAndWhenTheyEndWithoutAGrant() throws Exception {
        assumeCapability(Capability.INSPECT);
        String n = name("queue");
        Lease held = take(open().lock(n));
        Recorded seen = new Recorded();
        try (Watch watch = watch(WatchTarget.lock(n), seen)) {
            assertThat(seen.next().type()).isEqualTo(Type.STATE);
            LockClient waiter = open();
            Background<Lease> wait = inBackground(
                    "waiter", () -> waiter.lock(n).acquire(AcquireOptions.waitUpTo(Duration.ofSeconds(1))));
            WatchEvent queued = seen.next();
            assertThat(queued.type()).isEqualTo(Type.QUEUED);
            assertThat(queued.sessionId()).isEqualTo(waiter.sessionId());
            assertThat(Futures.failure(wait.result(), PROMPTLY)).isInstanceOf(LockTimeoutException.class);
            WatchEvent ended = seen.next();
            assertThat(ended.type()).isEqualTo(Type.WAIT_ENDED);
            assertThat(ended.sessionId()).isEqualTo(waiter.sessionId());
            assertThat(ended.cause()).isIn(Cause.TIMED_OUT, Cause.CANCELLED, Cause.UNKNOWN);
            held.release();
        }
    }

    @Test
    void whereChangesAreRecordedEveryOneIsToldInOrderWithItsCause() throws Exception {
        assumeCapability(Capability.WATCH);
        String n = name("busy");
        Recorded seen = new Recorded();
        List<Long> tokens = new ArrayList<>();
        try (Watch watch = watch(WatchTarget.lock(n), seen)) {
            assertThat(seen.next().type()).isEqualTo(Type.STATE);
            LockClient client = open();
            DistributedLock lock = client.lock(n);
            for (int i = 0; i < 20; i++) {
                Lease lease = take(lock);
                tokens.add(lease.fencingToken());
                lease.release(); // at once: a poller would see nothing of most of these
            }
            for (long token : tokens) {
                WatchEvent acquired = seen.next();
                assertThat(acquired.type()).isEqualTo(Type.ACQUIRED);
                assertThat(acquired.fencingToken()).isEqualTo(token);
                WatchEvent released = seen.next();
                assertThat(released.type()).isEqualTo(Type.RELEASED);
                assertThat(released.fencingToken()).isEqualTo(token);
                assertThat(released.cause()).isEqualTo(Cause.RELEASED);
            }
            if (has(Capability.REVOKE)) {
                Lease revoked = take(lock);
                observer().admin().revoke(n);
                assertThat(seen.next().type()).isEqualTo(Type.ACQUIRED);
                WatchEvent lost = seen.next();
                assertThat(lost.fencingToken()).isEqualTo(revoked.fencingToken());
                assertThat(lost.cause()).isEqualTo(Cause.REVOKED);
            }
        }
    }

    @Test
    void anExpiredHoldersLeavingIsToldWithItsCause() throws Exception {
        assumeCapability(Capability.INSPECT);
        String n = name("expiring");
        LockClient doomed = openShortLived();
        Lease lease = take(doomed.lock(n));
        Recorded seen = new Recorded();
        try (Watch watch = watch(WatchTarget.lock(n), seen)) {
            assertThat(seen.next().type()).isEqualTo(Type.STATE);
            crash(doomed);
            WatchEvent lost = seen.nextMatching(is(Type.RELEASED, n), new ArrayList<>());
            assertThat(lost.fencingToken()).isEqualTo(lease.fencingToken());
            assertThat(lost.cause())
                    .isIn(has(Capability.WATCH) ? List.of(Cause.SESSION_EXPIRED) : List.of(Cause.UNKNOWN));
        }
    }

    @Test
    void aRegisterWatchReportsEveryVersionItSees() throws Exception {
        assumeCapability(Capability.REGISTERS);
        String key = name("config");
        Recorded seen = new Recorded();
        try (Watch watch = watch(WatchTarget.register(key), seen)) {
            WatchEvent state = seen.next();
            assertThat(state.type()).isEqualTo(Type.STATE);
            assertThat(state.version()).isZero();
            assertThat(state.value()).isNull();
            VersionedRegister register = open().register(key);
            register.compareAndSet(0, bytes("one"));
            WatchEvent first = seen.next();
            assertThat(first.type()).isEqualTo(Type.REGISTER_SET);
            assertThat(first.version()).isEqualTo(1);
            assertThat(new String(first.value(), StandardCharsets.UTF_8)).isEqualTo("one");
            register.compareAndSet(1, bytes("two"));
            WatchEvent second = seen.next();
            assertThat(second.version()).isEqualTo(2);
            assertThat(new String(second.value(), StandardCharsets.UTF_8)).isEqualTo("two");
        }
        Recorded late = new Recorded();
        try (Watch watch = watch(WatchTarget.register(key), late)) {
            WatchEvent state = late.next();
            assertThat(state.type())
                    .as("a watch that starts later starts from the value")
                    .isEqualTo(Type.STATE);
            assertThat(state.version()).isEqualTo(2);
            assertThat(new String(state.value(), StandardCharsets.UTF_8)).isEqualTo("two");
        }
    }

    @Test
    void awaitFreeReturnsWhenTheHolderLetsGoAndFalseWhenTheTimeoutPasses() throws Exception {
        assumeCapability(Capability.INSPECT);
        String n = name("awaited");
        assertThat(observer().awaitFree(n, Duration.ZERO)).as("a free lock").isTrue();
        Lease lease = take(open().lock(n));
        long start = System.nanoTime();
        assertThat(observer().awaitFree(n, Duration.ofMillis(300))).as("held").isFalse();
        assertThat(millisSince(start)).isGreaterThanOrEqualTo(300);
        Background<Boolean> waiting = inBackground("awaitFree", () -> observer().awaitFree(n, LONG_WAIT));
        Thread.sleep(200); // let it begin to wait: it must not return while the lock is held
        assertThat(waiting.result()).isNotDone();
        lease.release();
        assertThat(Futures.get(waiting.result(), PROMPTLY)).isTrue();
        assertThat(take(observer().lock(n)).fencingToken())
                .as("awaitFree took nothing")
                .isPositive();
    }

    @Test
    void anObserverSeesEachLeaderInEpochOrderWithItsValue() throws Exception {
        assumeCapability(Capability.FENCED_REGISTERS, Capability.INSPECT);
        String n = name("election");
        List<Optional<Election.Leader>> told = new CopyOnWriteArrayList<>();
        try (Watch watch = observer().election(n).observe(told::add)) {
            eventually(PROMPTLY).alias("told that nobody leads").until(() -> !told.isEmpty());
            assertThat(told.get(0)).isEmpty();
            AcquireOptions wait = AcquireOptions.waitUpTo(LONG_WAIT);
            var first = open().election(n).campaign("first", wait);
            eventually(PROMPTLY)
                    .alias("told of the first leader's value")
                    .until(() -> told.contains(Optional.of(new Election.Leader(n, first.epoch(), "first"))));
            first.resign();
            var second = open().election(n).campaign("second", wait);
            eventually(PROMPTLY)
                    .alias("told of the second leader's value")
                    .until(() -> told.contains(Optional.of(new Election.Leader(n, second.epoch(), "second"))));
            second.resign();
            eventually(PROMPTLY)
                    .alias("told that nobody leads again")
                    .until(() -> told.get(told.size() - 1).isEmpty());
        }
        long last = 0;
        for (Optional<Election.Leader> leader : told) {
            if (leader.isPresent()) {
                assertThat(leader.get().epoch())
                        .as("epochs never go back: " + told)
                        .isGreaterThanOrEqualTo(last);
                last = leader.get().epoch();
            }
        }
    }

    @Test
    void watchingNeedsInspectionOrARecordOfChanges() {
        if (has(Capability.INSPECT) || has(Capability.WATCH)) {
            assertThatThrownBy(() -> observer().watch((WatchTarget) null, new Recorded()))
                    .isInstanceOf(io.holdfast.InvalidArgumentException.class);
            return;
        }
        assertThatThrownBy(() -> observer().watch(name("x"), new Recorded()))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("INSPECT");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
