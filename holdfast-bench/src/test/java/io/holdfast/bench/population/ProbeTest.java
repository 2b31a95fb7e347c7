package io.holdfast.bench.population;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.testkit.FakeTicker;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProbeTest {
    /**
     * A lock whose first acquires are slow, as a cold client's are: W1 counts none of them, since
     * its warm-up (as long as its window) runs them first. Without the warm-up the p99 is the cold
     * acquires' 100 ms.
     */
    @Test
    void w1CountsNoneOfTheColdAcquiresOfItsWarmUp() throws Exception {
        FakeTicker ticker = new FakeTicker();
        int[] acquires = {0};
        Probe.Lock coldThenWarm = new Probe.Lock() {
            @Override
            public Probe.Held acquire() {
                ticker.advance(Duration.ofMillis(++acquires[0] <= 5 ? 100 : 1));
                return () -> ticker.advance(Duration.ofMillis(1));
            }

            @Override
            public void close() {}
        };
        try (Probe probe = new Probe(coldThenWarm, ticker)) {
            Probe.W1 w1 = probe.w1(Duration.ofSeconds(1));

            assertThat(w1.p99Micros()).isBetween(1_000L, 1_001L);
            assertThat(w1.p50Micros()).isBetween(1_000L, 1_001L);
            assertThat(w1.pairsPerSecond()).isBetween(499.0, 501.0);
            assertThat(w1.errors()).isZero();
        }
    }
}
