package io.holdfast.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.HoldfastException;
import io.holdfast.UnavailableException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WatchRunner} in virtual time: its loop runs on the executor it is given, and its pause
 * after a failed read is a timer of the scheduler it is given, so a {@link ManualScheduler} decides
 * when it reads again; nothing in it sleeps. The feed is a script the test hands pages and
 * failures to, one per read.
 */
class WatchRunnerTest {
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final Duration FIRST_PAUSE = Duration.ofMillis(50); // Backoffs.watchReconnect()
    private static final WatchTarget TARGET = WatchTarget.lock("jobs/a");

    private final ManualScheduler timers = new ManualScheduler(new FakeTicker());
    private final ScriptedFeed feed = new ScriptedFeed();
    private final Recorded listener = new Recorded();
    private Watch watch;

    @AfterEach
    void close() {
        if (watch != null) {
            watch.close();
        }
    }

    private Watch start() {
        watch = WatchRunner.start(
                feed, TARGET, listener, () -> true, DaemonThreads.threadPerTask("watch-under-test"), timers);
        return watch;
    }

    @Test
    void aFailedReadIsReadAgainOnlyWhenTheSchedulersTimeHasPassed() {
        feed.next(new UnavailableException("the leader is changing"));
        start();
        await("the pause is a timer on the given scheduler")
                .atMost(BOUND)
                .until(() -> timers.nextIn().equals(Optional.of(FIRST_PAUSE)));

        timers.advance(FIRST_PAUSE.minusMillis(1));
        assertThat(timers.queued()).as("a millisecond before the pause is over").isEqualTo(1);
        assertThat(feed.reads.get()).as("read once, the failed read").isEqualTo(1);

        feed.next(new ChangeFeed.Page(
                List.of(WatchEvent.lockState("jobs/a", List.of()).at("1")), "1"));
        timers.advance(Duration.ofMillis(1));
        await("read again once the pause is over").atMost(BOUND).until(() -> listener.events.size() == 1);
        assertThat(listener.events.get(0).type()).isEqualTo(WatchEvent.Type.STATE);
        assertThat(watch.position()).isEqualTo("1");
        assertThat(watch.isOpen()).isTrue();
    }

    @Test
    void closingDuringAPauseEndsTheWatchWithoutACauseAndCancelsItsTimer() {
        feed.next(new UnavailableException("no member answers"));
        start();
        await().atMost(BOUND).until(() -> timers.queued() == 1);

        watch.close();

        await("ended by the close").atMost(BOUND).until(() -> listener.ended.get() != null);
        assertThat(listener.ended.get()).as("a close is no failure").isEmpty();
        assertThat(timers.queued()).as("the pause's timer is cancelled").isZero();
        assertThat(feed.reads.get()).isEqualTo(1);
    }

    @Test
    void aSchedulerThatRefusesThePauseEndsTheWatchAsItsClientClosed() {
        feed.next(new UnavailableException("no member answers"));
        timers.shutdown();
        start();

        await().atMost(BOUND).until(() -> listener.ended.get() != null);
        assertThat(listener.ended.get())
                .get()
                .isInstanceOf(UnavailableException.class)
                .extracting(Throwable::getMessage)
                .asString()
                .contains("its client was closed");
    }

    /** Issue 70: a watch whose client lost its session said "its client was closed", hiding the real cause. */
    @Test
    void aClientWhoseSessionWasLostEndsTheWatchNamingWhy() {
        feed.next(new UnavailableException("no member answers"));
        watch = WatchRunner.start(
                feed,
                TARGET,
                listener,
                () -> false,
                () -> "the session s1 expired: no heartbeat was acknowledged for a whole TTL (10s)",
                DaemonThreads.threadPerTask("watch-under-test"),
                timers);

        await().atMost(BOUND).until(() -> listener.ended.get() != null);
        assertThat(listener.ended.get())
                .get()
                .isInstanceOf(io.holdfast.SessionExpiredException.class)
                .extracting(Throwable::getMessage)
                .isEqualTo("the watch of " + TARGET + " ended: the session s1 expired: no heartbeat was"
                        + " acknowledged for a whole TTL (10s)");
    }

    @Test
    void anExecutorThatRefusesTheLoopEndsTheWatchAtOnce() {
        watch = WatchRunner.start(
                feed,
                TARGET,
                listener,
                () -> true,
                task -> {
                    throw new java.util.concurrent.RejectedExecutionException("closed");
                },
                timers);

        assertThat(watch.isOpen()).isFalse();
        assertThat(listener.ended.get()).get().isInstanceOf(UnavailableException.class);
        assertThat(feed.reads.get()).isZero();
    }

    /** Answers each read with what the test handed it next, blocking until it does. */
    private static final class ScriptedFeed implements ChangeFeed {
        final BlockingQueue<Object> script = new LinkedBlockingQueue<>();
        final AtomicInteger reads = new AtomicInteger();

        void next(Object pageOrFailure) {
            script.add(pageOrFailure);
        }

        @Override
        public Page read(WatchTarget target, String after, Duration wait) throws InterruptedException {
            Object next = script.take();
            reads.incrementAndGet();
            if (next instanceof RuntimeException failure) {
                throw failure;
            }
            return (Page) next;
        }
    }

    private static final class Recorded implements WatchListener {
        final List<WatchEvent> events = new CopyOnWriteArrayList<>();
        /** Empty: ended without a cause; null: not ended. */
        final AtomicReference<Optional<HoldfastException>> ended = new AtomicReference<>();

        @Override
        public void onEvent(WatchEvent event) {
            events.add(event);
        }

        @Override
        public void onEnd(HoldfastException cause) {
            ended.set(Optional.ofNullable(cause));
        }
    }
}
