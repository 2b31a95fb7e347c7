package io.holdfast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The sequence numbers a sender gives its session's requests, and what they acknowledge. */
class InvocationLedgerTest {

    @Test
    void numbersIncreaseFromTheFirstAndNameTheSession() {
        InvocationLedger ledger = new InvocationLedger("s1", 5_000_001);
        Command.Invocation a = ledger.begin();
        Command.Invocation b = ledger.begin();
        assertThat(a).isEqualTo(new Command.Invocation("s1", 5_000_001, 5_000_001));
        assertThat(b.seq()).isEqualTo(5_000_002);
        assertThat(b.sessionId()).isEqualTo("s1");
    }

    @Test
    void anOutstandingRequestIsNeverAcknowledgedByALaterOne() {
        InvocationLedger ledger = new InvocationLedger("s1", 1);
        Command.Invocation slow = ledger.begin(); // e.g. a release whose outcome is not known yet
        for (int i = 0; i < 10; i++) {
            Command.Invocation quick = ledger.begin();
            assertThat(quick.ackedBelow())
                    .as("request %d while %d is outstanding", quick.seq(), slow.seq())
                    .isEqualTo(slow.seq());
            ledger.end(quick.seq());
        }
        ledger.end(slow.seq());
        Command.Invocation next = ledger.begin();
        assertThat(next.ackedBelow()).as("everything before it has its outcome").isEqualTo(next.seq());
    }

    @Test
    void endedNumbersBelowTheLowestOutstandingAreAcknowledgedInOrder() {
        InvocationLedger ledger = new InvocationLedger("s1", 1);
        Command.Invocation one = ledger.begin();
        Command.Invocation two = ledger.begin();
        Command.Invocation three = ledger.begin();
        ledger.end(two.seq());
        assertThat(ledger.begin().ackedBelow()).isEqualTo(one.seq());
        ledger.end(one.seq());
        assertThat(ledger.begin().ackedBelow()).isEqualTo(three.seq());
        assertThat(ledger.outstanding()).isEqualTo(3);
    }

    /**
     * Threads that begin and end requests at once: no invocation may acknowledge a number that was
     * outstanding when it was built. Each thread checks its own outstanding number against every
     * invocation the others built while it was outstanding.
     */
    @Test
    void concurrentSendersNeverAcknowledgeAnOutstandingNumber() throws Exception {
        InvocationLedger ledger = new InvocationLedger("s1", 1);
        int threads = 4;
        int rounds = 5_000;
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            done.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < rounds; i++) {
                    Command.Invocation mine = ledger.begin();
                    Command.Invocation later = ledger.begin();
                    if (later.ackedBelow() > mine.seq()) {
                        violations.add(later + " acknowledged " + mine.seq() + ", still outstanding");
                    }
                    ledger.end(later.seq());
                    ledger.end(mine.seq());
                }
                return null;
            }));
        }
        start.countDown();
        for (var f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(violations).isEmpty();
        assertThat(ledger.outstanding()).isZero();
    }

    @Test
    void refusesANumberBelowOne() {
        assertThatThrownBy(() -> new InvocationLedger("s1", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 1");
    }

    @Test
    void numbersSkipAheadToAFloorButNeverGoBackAndKeepTheOutstandingAcknowledgement() {
        InvocationLedger ledger = new InvocationLedger("s1", 10);
        Command.Invocation first = ledger.begin(5);
        assertThat(first.seq())
                .as("a floor below the next number changes nothing")
                .isEqualTo(10);
        Command.Invocation second = ledger.begin(1_000);
        assertThat(second.seq()).isEqualTo(1_000);
        assertThat(second.ackedBelow())
                .as("10 is still outstanding: nothing below it may be forgotten")
                .isEqualTo(10);
        ledger.end(first.seq());
        Command.Invocation third = ledger.begin(500);
        assertThat(third.seq()).as("never back").isEqualTo(1_001);
        assertThat(third.ackedBelow()).isEqualTo(1_000);
    }
}
