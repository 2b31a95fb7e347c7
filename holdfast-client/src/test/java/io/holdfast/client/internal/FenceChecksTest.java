package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.holdfast.UnavailableException;
import io.holdfast.model.FenceCheck;
import io.holdfast.testkit.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The checks of one transport go out a few calls at a time, the rest gathered into the next calls;
 * a lone check waits for nothing; an older server is sent one check per call, still a few at a
 * time, and asked again for the batched call a minute later.
 */
class FenceChecksTest {
    private final FakeTicker ticker = new FakeTicker();
    private final Recorder sender = new Recorder();
    private final FenceChecks checks = new FenceChecks(sender, Runnable::run, ticker);

    @Test
    void aLoneCheckGoesAtOnceAndIsAnsweredAsItsCallSays() throws Exception {
        CompletableFuture<Boolean> current = checks.check("a", 3);
        assertThat(sender.calls).hasSize(1);
        assertThat(sender.calls.get(0).checks).containsExactly(new FenceCheck("a", 3));
        sender.calls.get(0).answerAll(false);
        assertThat(current.get()).isFalse();
    }

    @Test
    void checksAskedWhileCallsAreInFlightGoTogetherInTheNextCalls() throws Exception {
        List<FenceCheck> many = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            many.add(new FenceCheck("lock/" + i, i + 1));
        }
        CompletableFuture<List<Boolean>> all = checks.checkAll(many);
        assertThat(sender.calls).as("calls in flight").hasSize(FenceChecks.MAX_IN_FLIGHT);
        assertThat(sender.calls).allSatisfy(c -> assertThat(c.checks).hasSize(FenceChecks.MAX_PER_CALL));
        CompletableFuture<Boolean> lone = checks.check("late", 9);
        assertThat(sender.calls).as("no call beyond the bound").hasSize(FenceChecks.MAX_IN_FLIGHT);

        for (int answered = 0; answered < sender.calls.size(); answered++) {
            assertThat(sender.inFlight()).isLessThanOrEqualTo(FenceChecks.MAX_IN_FLIGHT);
            sender.calls.get(answered).answerAll(true);
        }
        assertThat(sender.calls).as("5,001 checks in calls of at most 1,000").hasSize(6);
        assertThat(sender.calls.get(5).checks).containsExactly(new FenceCheck("late", 9));
        assertThat(all.get()).hasSize(5_000).containsOnly(true);
        assertThat(lone.get()).isTrue();
        List<FenceCheck> sent = new ArrayList<>();
        sender.calls.subList(0, 5).forEach(c -> sent.addAll(c.checks));
        assertThat(sent).as("every check once, in order").isEqualTo(many);
    }

    @Test
    void aFailedCallFailsItsChecksOnlyAndTheOthersStillGo() throws Exception {
        List<FenceCheck> many = new ArrayList<>();
        for (int i = 0; i < 4_500; i++) {
            many.add(new FenceCheck("lock/" + i, i + 1));
        }
        CompletableFuture<Boolean> first = checks.check("first", 1);
        CompletableFuture<List<Boolean>> all = checks.checkAll(many);
        sender.calls.get(0).fail(new UnavailableException("127.0.0.1:4653: connection refused"));
        assertThat(first).failsWithin(Duration.ZERO).withThrowableThat().withMessageContaining("connection refused");
        for (int answered = 1; answered < sender.calls.size(); answered++) {
            sender.calls.get(answered).answerAll(true);
        }
        assertThat(all.get()).hasSize(4_500);
    }

    @Test
    void anOlderServerIsSentOneCheckPerCallAFewAtATimeThenAskedAgainAMinuteLater() throws Exception {
        List<FenceCheck> many = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            many.add(new FenceCheck("lock/" + i, i + 1));
        }
        CompletableFuture<Boolean> first = checks.check("first", 1);
        CompletableFuture<List<Boolean>> all = checks.checkAll(many);
        assertThat(sender.calls).hasSize(2); // the lone one, then the other ten together
        sender.calls.get(1).fail(Status.UNIMPLEMENTED.asRuntimeException());
        assertThat(sender.calls.subList(2, sender.calls.size()))
                .as("one check each, at most %d in flight", FenceChecks.MAX_IN_FLIGHT)
                .hasSize(FenceChecks.MAX_IN_FLIGHT - 1)
                .allSatisfy(c -> assertThat(c.checks).hasSize(1));
        while (sender.inFlight() > 0) {
            sender.calls.stream()
                    .filter(c -> !c.answer.isDone())
                    .findFirst()
                    .orElseThrow()
                    .answerAll(false);
        }
        assertThat(first.get()).isFalse();
        assertThat(all.get()).hasSize(10).containsOnly(false);
        assertThat(sender.calls).hasSize(12);

        checks.checkAll(many.subList(0, 2));
        assertThat(sender.calls.subList(12, sender.calls.size())).hasSize(2);
        ticker.advance(Duration.ofSeconds(FenceChecks.SINGLES_FOR_SECONDS));
        checks.checkAll(many.subList(0, 2));
        assertThat(sender.calls.get(sender.calls.size() - 1).checks)
                .as("the batched call again")
                .hasSize(2);
    }

    /** Keeps each call unanswered until the test answers it. */
    private static final class Recorder implements FenceChecks.Sender {
        final List<Call> calls = new CopyOnWriteArrayList<>();

        @Override
        public CompletableFuture<List<Boolean>> many(List<FenceCheck> asked) {
            Call c = new Call(List.copyOf(asked));
            calls.add(c);
            return c.answer;
        }

        @Override
        public CompletableFuture<Boolean> one(FenceCheck asked) {
            return many(List.of(asked)).thenApply(a -> a.get(0));
        }

        long inFlight() {
            return calls.stream().filter(c -> !c.answer.isDone()).count();
        }
    }

    private static final class Call {
        final List<FenceCheck> checks;
        final CompletableFuture<List<Boolean>> answer = new CompletableFuture<>();

        Call(List<FenceCheck> checks) {
            this.checks = checks;
        }

        void answerAll(boolean current) {
            List<Boolean> answers = new ArrayList<>();
            checks.forEach(c -> answers.add(current));
            answer.complete(answers);
        }

        void fail(Throwable why) {
            answer.completeExceptionally(why);
        }
    }
}
