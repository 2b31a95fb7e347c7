package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Requests taking turns: the bound on those in flight, their order, and what is never sent. */
class TurnsTest {
    /** A stand-in for the leader: keeps each request's future for the test to answer. */
    private static final class Leader {
        final List<Integer> sent = new ArrayList<>();
        final List<CompletableFuture<String>> open = new ArrayList<>();

        synchronized CompletableFuture<String> send(int request) {
            sent.add(request);
            CompletableFuture<String> answer = new CompletableFuture<>();
            open.add(answer);
            return answer;
        }

        void answer(int i) {
            CompletableFuture<String> f;
            int request;
            synchronized (this) {
                f = open.get(i);
                request = sent.get(i);
            }
            f.complete("answer " + request);
        }
    }

    @Test
    void atMostTheBoundIsInFlightAndTheRestGoInTheOrderAsked() throws Exception {
        Leader leader = new Leader();
        Turns<Integer, String> turns = new Turns<>(2, leader::send);

        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            answers.add(turns.ask(i));
        }

        assertThat(leader.sent).containsExactly(0, 1);
        assertThat(turns.waiting()).isEqualTo(3);

        leader.answer(1);
        assertThat(answers.get(1).get(1, TimeUnit.SECONDS)).isEqualTo("answer 1");
        assertThat(leader.sent).containsExactly(0, 1, 2);

        leader.answer(0);
        leader.answer(2);
        assertThat(leader.sent).containsExactly(0, 1, 2, 3, 4);
        leader.answer(3);
        leader.answer(4);
        for (int i = 0; i < 5; i++) {
            assertThat(answers.get(i).get(1, TimeUnit.SECONDS)).isEqualTo("answer " + i);
        }
        assertThat(turns.waiting()).isZero();

        // the places were all freed: two more go at once
        turns.ask(5);
        turns.ask(6);
        assertThat(leader.sent).containsExactly(0, 1, 2, 3, 4, 5, 6);
    }

    @Test
    void aRequestGivenUpOnWhileItWaitedIsNeverSent() throws Exception {
        Leader leader = new Leader();
        Turns<Integer, String> turns = new Turns<>(1, leader::send);
        CompletableFuture<String> first = turns.ask(0);
        CompletableFuture<String> second = turns.ask(1);
        CompletableFuture<String> third = turns.ask(2);

        second.cancel(false);
        leader.answer(0);

        assertThat(first.get(1, TimeUnit.SECONDS)).isEqualTo("answer 0");
        assertThat(leader.sent).containsExactly(0, 2);
        leader.answer(1); // the leader's second request is 2
        assertThat(third.get(1, TimeUnit.SECONDS)).isEqualTo("answer 2");
    }

    @Test
    void requestsThatFailAsTheyAreSentFreeTheirPlaceWithoutDeepeningTheStack() throws Exception {
        AtomicInteger sends = new AtomicInteger();
        CompletableFuture<String> held = new CompletableFuture<>();
        // the first request waits for the test; every later one fails as it is sent (a closed link)
        Turns<Integer, String> turns = new Turns<>(1, request -> {
            sends.incrementAndGet();
            if (request == 0) {
                return held;
            }
            if (request % 2 == 0) {
                throw new IllegalStateException("closed " + request);
            }
            return CompletableFuture.failedFuture(new IllegalStateException("closed " + request));
        });
        CompletableFuture<String> first = turns.ask(0);
        List<CompletableFuture<String>> rest = new ArrayList<>();
        for (int i = 1; i <= 100_000; i++) {
            rest.add(turns.ask(i));
        }
        assertThat(sends.get()).isEqualTo(1);

        held.complete("answer 0"); // 100,000 failures one after the other, in one loop

        assertThat(first.get(1, TimeUnit.SECONDS)).isEqualTo("answer 0");
        assertThat(sends.get()).isEqualTo(100_001);
        for (CompletableFuture<String> r : rest) {
            assertThat(r).isCompletedExceptionally();
        }
        assertThatThrownBy(() -> rest.get(41).get())
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("closed 42");
        assertThat(turns.waiting()).isZero();
    }

    @Test
    void answeredFromManyThreadsTheBoundHoldsAndEveryRequestIsAnswered() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        ExecutorService answerers = Executors.newFixedThreadPool(4);
        try {
            Turns<Integer, String> turns = new Turns<>(3, request -> {
                int now = inFlight.incrementAndGet();
                most.accumulateAndGet(now, Math::max);
                return CompletableFuture.supplyAsync(
                        () -> {
                            inFlight.decrementAndGet();
                            return "answer " + request;
                        },
                        answerers);
            });
            List<CompletableFuture<String>> answers = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                answers.add(turns.ask(i));
            }
            for (int i = 0; i < answers.size(); i++) {
                assertThat(answers.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("answer " + i);
            }
            assertThat(most.get()).isBetween(1, 3);
        } finally {
            answerers.shutdownNow();
        }
    }

    @Test
    void aBoundBelowOneIsRefused() {
        assertThatThrownBy(() -> new Turns<Integer, String>(0, r -> new CompletableFuture<>()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one");
    }
}
