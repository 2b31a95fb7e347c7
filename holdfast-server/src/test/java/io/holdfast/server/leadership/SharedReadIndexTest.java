package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Reads at a member that does not lead share read-index requests, one in flight at a time, and a
 * read is never given the answer of a request sent before it arrived: that answer may miss a write
 * acknowledged after it was sent and before the read was asked for.
 */
class SharedReadIndexTest {
    /** Each request the leader was asked, unanswered until the test answers it. */
    private final List<CompletableFuture<Long>> asked = new CopyOnWriteArrayList<>();

    private final SharedReadIndex<Long> indexes = new SharedReadIndex<>(() -> {
        CompletableFuture<Long> f = new CompletableFuture<>();
        asked.add(f);
        return f;
    });

    @Test
    void aLoneReadAsksAtOnce() throws Exception {
        CompletableFuture<Long> read = indexes.get();
        assertThat(asked).hasSize(1);
        asked.get(0).complete(7L);
        assertThat(read.get()).isEqualTo(7L);
    }

    @Test
    void readsThatArriveDuringARequestShareTheNextAndNeverTheOneInFlight() throws Exception {
        CompletableFuture<Long> first = indexes.get();
        CompletableFuture<Long> second = indexes.get();
        CompletableFuture<Long> third = indexes.get();
        assertThat(asked).as("one request in flight").hasSize(1);

        asked.get(0).complete(10L); // answered for the first read only: sent before the others arrived
        assertThat(first.get()).isEqualTo(10L);
        assertThat(second).as("a read given an index asked before it arrived").isNotDone();
        assertThat(third).isNotDone();
        assertThat(asked).as("the next request, for the reads that waited").hasSize(2);

        CompletableFuture<Long> fourth = indexes.get(); // arrives while the second request is in flight
        asked.get(1).complete(12L);
        assertThat(second.get()).isEqualTo(12L);
        assertThat(third.get()).isEqualTo(12L);
        assertThat(fourth).isNotDone();
        asked.get(2).complete(13L);
        assertThat(fourth.get()).isEqualTo(13L);
        assertThat(asked).hasSize(3);

        indexes.get();
        assertThat(asked).as("idle again: a new read asks at once").hasSize(4);
    }

    @Test
    void aFailedRequestFailsOnlyItsReadsAndTheNextIsStillSent() throws Exception {
        CompletableFuture<Long> first = indexes.get();
        CompletableFuture<Long> second = indexes.get();
        asked.get(0).completeExceptionally(new UnavailableException("no leader reached"));
        assertThat(first).failsWithin(Duration.ZERO).withThrowableThat().withMessageContaining("no leader reached");
        assertThat(asked).hasSize(2);
        asked.get(1).complete(5L);
        assertThat(second.get()).isEqualTo(5L);
    }

    @Test
    void aRequestThatCannotBeSentFailsItsReadAndLeavesNothingInFlight() throws Exception {
        SharedReadIndex<Long> broken = new SharedReadIndex<>(() -> {
            throw new IllegalStateException("the link is closed");
        });
        assertThat(broken.get()).failsWithin(Duration.ZERO).withThrowableThat().withMessageContaining("closed");
        assertThat(broken.get())
                .as("a later read asks again")
                .failsWithin(Duration.ZERO)
                .withThrowableThat()
                .withMessageContaining("closed");
    }
}
