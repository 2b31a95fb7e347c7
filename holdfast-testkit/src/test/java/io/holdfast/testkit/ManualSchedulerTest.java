package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Virtual time for tests: tasks run when the test moves time, in due order, at their due time. */
class ManualSchedulerTest {
    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);
    private final List<String> ran = new ArrayList<>();

    private Runnable note(String what) {
        return () -> ran.add(what + "@" + (ticker.nanos() - start) / 1_000_000);
    }

    private final long start = ticker.nanos();

    @Test
    void nothingRunsUntilTimeMovesThenTasksRunInDueOrderAtTheirTime() {
        scheduler.schedule(note("b"), 200, TimeUnit.MILLISECONDS);
        scheduler.schedule(note("a"), 100, TimeUnit.MILLISECONDS);
        scheduler.schedule(note("c"), 200, TimeUnit.MILLISECONDS);
        assertThat(ran).isEmpty();
        assertThat(scheduler.advance(Duration.ofMillis(150))).isEqualTo(1);
        assertThat(ran).containsExactly("a@100");
        assertThat(ticker.nanos() - start).isEqualTo(Duration.ofMillis(150).toNanos());
        scheduler.advance(Duration.ofMillis(100));
        assertThat(ran).containsExactly("a@100", "b@200", "c@200");
    }

    @Test
    void nextInAndLastInSayWhenTheFirstAndTheLastTaskFallDue() {
        assertThat(scheduler.nextIn()).isEmpty();
        assertThat(scheduler.lastIn()).isEmpty();
        scheduler.schedule(note("late"), 60, TimeUnit.SECONDS);
        scheduler.scheduleAtFixedRate(note("often"), 100, 100, TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofSeconds(1));
        assertThat(scheduler.nextIn()).contains(Duration.ofMillis(100));
        assertThat(scheduler.lastIn()).contains(Duration.ofSeconds(59));
    }

    @Test
    void aTaskScheduledByATaskRunsInTheSameAdvanceIfItFallsDue() {
        scheduler.schedule(
                () -> scheduler.schedule(note("inner"), 50, TimeUnit.MILLISECONDS), 100, TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofMillis(200));
        assertThat(ran).containsExactly("inner@150");
    }

    @Test
    void periodicTasksRunAtFixedRateOrWithFixedDelayUntilCancelled() {
        ScheduledFuture<?> rate = scheduler.scheduleAtFixedRate(note("rate"), 10, 100, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> delay = scheduler.scheduleWithFixedDelay(note("delay"), 0, 150, TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofMillis(320));
        assertThat(ran)
                .containsExactly("delay@0", "rate@10", "rate@110", "delay@150", "rate@210", "delay@300", "rate@310");
        rate.cancel(false);
        delay.cancel(false);
        assertThat(scheduler.queued()).isZero();
        scheduler.advance(Duration.ofSeconds(1));
        assertThat(ran).hasSize(7);
    }

    @Test
    void aCancelledTaskNeverRuns() {
        ScheduledFuture<?> f = scheduler.schedule(note("x"), 10, TimeUnit.MILLISECONDS);
        assertThat(f.cancel(false)).isTrue();
        scheduler.advance(Duration.ofSeconds(1));
        assertThat(ran).isEmpty();
        assertThat(f.isCancelled()).isTrue();
    }

    @Test
    void aPeriodicTaskThatThrowsStopsAsTheJdksDo() {
        int[] runs = {0};
        scheduler.scheduleWithFixedDelay(
                () -> {
                    runs[0]++;
                    throw new IllegalStateException("boom");
                },
                0,
                10,
                TimeUnit.MILLISECONDS);
        scheduler.advance(Duration.ofMillis(100));
        assertThat(runs[0]).isEqualTo(1);
    }

    @Test
    void refusesAfterShutdownAndTimeNeverGoesBack() {
        assertThatThrownBy(() -> scheduler.advance(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ticker.advance(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
        scheduler.shutdown();
        assertThatThrownBy(() -> scheduler.schedule(note("late"), 1, TimeUnit.MILLISECONDS))
                .isInstanceOf(RejectedExecutionException.class);
    }
}
