package io.holdfast.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The one retry rule, blocking and asynchronous, on a fake clock: the attempts a policy allows,
 * its elapsed bound, a caller's time bound and stop condition, failures that are not retried, and
 * a call stopped from outside.
 */
class RetriesTest {
    /** 100 ms doubling to 1 s, no jitter, 5 attempts, 10 s. */
    private static final RetryPolicy POLICY =
            new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0.0, 5, Duration.ofSeconds(10));

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<Duration> pauses = new CopyOnWriteArrayList<>();
    private final List<Integer> attempts = new CopyOnWriteArrayList<>();
    private final FakeScheduler scheduler = new FakeScheduler();

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    /** Retries on the fake clock: a pause moves it on and is recorded. */
    private Retries retries(RetryPolicy policy) {
        return Retries.of(policy, clock::get).pause(pause -> {
            pauses.add(pause);
            clock.addAndGet(pause.toNanos());
        });
    }

    private static UnavailableException down(int attempt) {
        return new UnavailableException("down at attempt " + attempt);
    }

    /** An attempt that is counted and fails as unavailable. */
    private String alwaysDown(int attempt) {
        attempts.add(attempt);
        throw down(attempt);
    }

    /** An asynchronous attempt that is counted and fails as unavailable. */
    private CompletableFuture<String> downAsync(int attempt) {
        attempts.add(attempt);
        return CompletableFuture.failedFuture(down(attempt));
    }

    // ---- blocking

    @Test
    void aRetryableFailureIsRetriedAfterThePolicysPausesUntilAnAttemptSucceeds() throws Exception {
        List<String> told = new CopyOnWriteArrayList<>();

        String result = retries(POLICY)
                .onRetry((failure, attempt, pause) -> told.add(attempt + ": " + failure.getMessage() + " " + pause))
                .call(
                        attempt -> {
                            attempts.add(attempt);
                            if (attempt < 3) {
                                throw down(attempt);
                            }
                            return "granted";
                        },
                        e -> e instanceof UnavailableException);

        assertThat(result).isEqualTo("granted");
        assertThat(attempts).containsExactly(1, 2, 3);
        assertThat(pauses).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
        assertThat(told).containsExactly("1: down at attempt 1 PT0.1S", "2: down at attempt 2 PT0.2S");
    }

    @Test
    void afterThePolicysLastAttemptTheCallFailsWithWhatGiveUpMakesOfTheLastFailure() {
        assertThatThrownBy(() -> retries(POLICY)
                        .onGiveUp((last, attempts, elapsed) -> new UnavailableException(
                                attempts + " attempts in " + elapsed + ": " + last.getMessage(), last))
                        .call(this::alwaysDown, e -> e instanceof UnavailableException))
                .isInstanceOf(UnavailableException.class)
                .hasMessage("5 attempts in PT1.5S: down at attempt 5")
                .hasCauseInstanceOf(UnavailableException.class);
        assertThat(attempts).containsExactly(1, 2, 3, 4, 5);
        assertThat(pauses).hasSize(4);
    }

    @Test
    void noAttemptStartsOnceThePolicysElapsedTimeIsSpent() {
        RetryPolicy oneSecond =
                new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0.0, 1000, Duration.ofSeconds(1));
        Duration[] gaveUpAfter = new Duration[1];

        assertThatThrownBy(() -> retries(oneSecond)
                        .onGiveUp((last, attempts, elapsed) -> {
                            gaveUpAfter[0] = elapsed;
                            return last;
                        })
                        .call(
                                attempt -> {
                                    attempts.add(attempt);
                                    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(300)); // each attempt takes 300 ms
                                    throw down(attempt);
                                },
                                e -> e instanceof UnavailableException))
                .hasMessage("down at attempt 3");
        // 0-300 fails, pause 100; 400-700 fails, pause 200; 900-1200 fails: 1.2 s spent, no fourth.
        assertThat(attempts).containsExactly(1, 2, 3);
        assertThat(gaveUpAfter[0]).isEqualTo(Duration.ofMillis(1200));
    }

    @Test
    void withinGivesUpAtOnceRatherThanPauseThroughTheTimeLeft() {
        long deadline = clock.get() + TimeUnit.MILLISECONDS.toNanos(250);

        assertThatThrownBy(() -> retries(POLICY)
                        .within(() -> deadline - clock.get())
                        .call(this::alwaysDown, e -> e instanceof UnavailableException))
                .hasMessage("down at attempt 2");
        // After attempt 2, 150 ms are left: the 200 ms pause would spend them all.
        assertThat(attempts).containsExactly(1, 2);
        assertThat(pauses).containsExactly(Duration.ofMillis(100));
    }

    @Test
    void aFailureThatIsNotRetryablePassesAtOnceUnchanged() {
        IllegalStateException refused = new IllegalStateException("not yours");
        assertThatThrownBy(() -> retries(POLICY)
                        .call(
                                attempt -> {
                                    attempts.add(attempt);
                                    throw refused;
                                },
                                e -> e instanceof UnavailableException))
                .isSameAs(refused);

        IOException checked = new IOException("disk");
        assertThatThrownBy(() -> retries(POLICY)
                        .call(
                                attempt -> {
                                    attempts.add(attempt);
                                    throw checked;
                                },
                                e -> true))
                .isSameAs(checked);

        assertThat(attempts).containsExactly(1, 1);
        assertThat(pauses).isEmpty();
    }

    @Test
    void stopWhenEndsTheRetriesAfterTheFailureThatFollows() {
        AtomicBoolean closed = new AtomicBoolean();

        assertThatThrownBy(() -> retries(POLICY)
                        .stopWhen(closed::get)
                        .call(
                                attempt -> {
                                    attempts.add(attempt);
                                    closed.set(attempt == 2);
                                    throw down(attempt);
                                },
                                e -> e instanceof UnavailableException))
                .hasMessage("down at attempt 2");
        assertThat(attempts).containsExactly(1, 2);
    }

    @Test
    void anInterruptedPauseEndsTheCallWithTheFailureItWasToRetryAsCause() {
        UnavailableException failure = down(1);

        assertThatThrownBy(() -> Retries.of(POLICY, clock::get)
                        .pause(pause -> {
                            throw new InterruptedException();
                        })
                        .call(
                                attempt -> {
                                    attempts.add(attempt);
                                    throw failure;
                                },
                                e -> true))
                .isInstanceOf(InterruptedException.class)
                .hasCause(failure);
        assertThat(attempts).containsExactly(1);
    }

    @Test
    void theJitterIsDrawnFromTheRandomnessGiven() throws Exception {
        RetryPolicy fullJitter =
                new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 1.0, 3, Duration.ofSeconds(10));

        assertThatThrownBy(() -> retries(fullJitter)
                        .random(() -> 0.5)
                        .call(
                                attempt -> {
                                    throw down(attempt);
                                },
                                e -> true))
                .isInstanceOf(UnavailableException.class);
        assertThat(pauses).containsExactly(Duration.ofMillis(50), Duration.ofMillis(100));
    }

    // ---- asynchronous

    @Test
    void asynchronouslyEachRetryIsScheduledAfterItsPause() throws Exception {
        CompletableFuture<String> result = retries(POLICY)
                .callAsync(
                        attempt -> {
                            attempts.add(attempt);
                            return attempt < 3
                                    ? CompletableFuture.failedFuture(down(attempt))
                                    : CompletableFuture.completedFuture("granted");
                        },
                        e -> e instanceof UnavailableException,
                        scheduler);

        assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("granted");
        assertThat(attempts).containsExactly(1, 2, 3);
        assertThat(scheduler.delays).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
        assertThat(pauses).as("the blocking pause is not used").isEmpty();
    }

    @Test
    void asynchronouslyTheBoundsHoldAndAThrowingAttemptCountsAsAFailedOne() {
        CompletableFuture<String> result = retries(POLICY)
                .onGiveUp((last, attempts, elapsed) -> new UnavailableException(attempts + " attempts", last))
                .callAsync(
                        attempt -> {
                            attempts.add(attempt);
                            if (attempt % 2 == 0) {
                                throw down(attempt);
                            }
                            return CompletableFuture.supplyAsync(() -> {
                                throw down(attempt); // arrives wrapped in a CompletionException
                            });
                        },
                        e -> e instanceof UnavailableException,
                        scheduler);

        assertThatThrownBy(() -> result.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnavailableException.class)
                .hasMessage("5 attempts")
                .cause()
                .hasMessage("down at attempt 5");
        assertThat(attempts).containsExactly(1, 2, 3, 4, 5);
        assertThat(scheduler.delays).hasSize(4);
    }

    @Test
    void asynchronouslyAFailureThatIsNotRetryablePassesAtOnceUnwrapped() {
        IllegalStateException refused = new IllegalStateException("not yours");
        CompletableFuture<String> unchecked = retries(POLICY)
                .callAsync(
                        attempt -> {
                            attempts.add(attempt);
                            return CompletableFuture.failedFuture(new CompletionException(refused));
                        },
                        e -> e instanceof UnavailableException,
                        scheduler);
        CompletableFuture<String> checked = retries(POLICY)
                .callAsync(
                        attempt -> {
                            attempts.add(attempt);
                            return CompletableFuture.failedFuture(new TimeoutException());
                        },
                        e -> true,
                        scheduler);

        assertThatThrownBy(unchecked::join)
                .isInstanceOf(CompletionException.class)
                .cause()
                .isSameAs(refused);
        assertThatThrownBy(checked::join)
                .isInstanceOf(CompletionException.class)
                .cause()
                .isInstanceOf(TimeoutException.class);
        assertThat(attempts).containsExactly(1, 1);
        assertThat(scheduler.delays).isEmpty();
    }

    @Test
    void completingTheFutureStopsTheRetriesAndCancelsTheOneScheduled() {
        RetryPolicy slow = new RetryPolicy(Duration.ofHours(1), Duration.ofHours(1), 1.0, 0.0, 5, Duration.ofDays(1));
        scheduler.realDelays = true;

        CompletableFuture<String> result = retries(slow).callAsync(this::downAsync, e -> true, scheduler);

        assertThat(scheduler.getQueue()).as("the retry waits its hour").hasSize(1);
        ScheduledFuture<?> retry = scheduler.scheduled.get(0);
        result.cancel(false);
        assertThat(retry.isCancelled()).isTrue();
        assertThat(scheduler.getQueue()).isEmpty();
        assertThat(attempts).containsExactly(1);
    }

    /**
     * A caller that gives up on a call (a closed watch's long poll) cancels the attempt on its way,
     * so that whatever the attempt holds (a call on a connection) ends now, not when its wait does;
     * and a call completed normally leaves its attempt alone.
     */
    @Test
    void cancellingTheFutureCancelsTheAttemptOnItsWay() {
        List<CompletableFuture<String>> sent = new CopyOnWriteArrayList<>();
        CompletableFuture<String> result = callKeepingAttempts(sent);
        assertThat(sent).hasSize(1);

        result.cancel(false);

        assertThat(sent.get(0)).as("the attempt on its way").isCancelled();
        assertThat(sent).as("no further attempt").hasSize(1);

        callKeepingAttempts(sent).complete("early");
        assertThat(sent.get(1))
                .as("completing the call does not cancel its attempt")
                .isNotCancelled();
    }

    /** A call whose attempts never complete by themselves, each kept in {@code sent}. */
    private CompletableFuture<String> callKeepingAttempts(List<CompletableFuture<String>> sent) {
        return retries(POLICY)
                .callAsync(
                        n -> {
                            CompletableFuture<String> attempt = new CompletableFuture<>();
                            sent.add(attempt);
                            return attempt;
                        },
                        e -> true,
                        scheduler);
    }

    @Test
    void aSchedulerThatIsShutDownEndsTheCallAtOnceWithTheFailure() {
        scheduler.shutdown();

        CompletableFuture<String> result = retries(POLICY)
                .onGiveUp((last, attempts, elapsed) -> new UnavailableException("gave up after " + attempts, last))
                .callAsync(this::downAsync, e -> true, scheduler);

        assertThat(result).isCompletedExceptionally();
        assertThatThrownBy(result::join).cause().hasMessage("gave up after 1");
        assertThat(attempts).containsExactly(1);
    }

    /**
     * A real scheduler that records the delays asked for and, unless told to wait them, runs each
     * task at once with the fake clock moved on by its delay.
     */
    private final class FakeScheduler extends ScheduledThreadPoolExecutor {
        final List<Duration> delays = new CopyOnWriteArrayList<>();
        final List<ScheduledFuture<?>> scheduled = new CopyOnWriteArrayList<>();
        volatile boolean realDelays;

        FakeScheduler() {
            super(1);
            setRemoveOnCancelPolicy(true);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
            if (isShutdown()) {
                return super.schedule(task, delay, unit); // refused
            }
            delays.add(Duration.ofNanos(unit.toNanos(delay)));
            ScheduledFuture<?> f;
            if (realDelays) {
                f = super.schedule(task, delay, unit);
            } else {
                f = super.schedule(
                        () -> {
                            clock.addAndGet(unit.toNanos(delay));
                            task.run();
                        },
                        0,
                        TimeUnit.NANOSECONDS);
            }
            scheduled.add(f);
            return f;
        }
    }
}
