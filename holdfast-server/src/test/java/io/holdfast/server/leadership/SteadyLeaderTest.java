package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.testkit.FakeTicker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SteadyLeaderTest {
    private final FakeTicker ticker = new FakeTicker();
    private final AtomicReference<String> leadership = new AtomicReference<>();
    private final SteadyLeader steady = new SteadyLeader(leadership::get, ticker, 5_000);

    @Test
    void oneLeaderInOneTermForTheSteadyTimeAndNotBefore() {
        leadership.set("n2@3");
        assertThat(steady.look()).isFalse();
        ticker.advance(Duration.ofMillis(4_999));
        assertThat(steady.look()).isFalse();
        ticker.advance(Duration.ofMillis(1));
        assertThat(steady.look()).isTrue();
        assertThat(steady.disturbed()).isFalse();
    }

    @Test
    void aNewTermOrNoLeaderStartsTheWaitAgain() {
        leadership.set("n2@3");
        steady.look();
        ticker.advance(Duration.ofSeconds(4));
        leadership.set("n2@4");
        assertThat(steady.look()).isFalse();
        ticker.advance(Duration.ofSeconds(4));
        assertThat(steady.look()).as("4 s of term 4").isFalse();
        leadership.set(null);
        ticker.advance(Duration.ofSeconds(10));
        assertThat(steady.look()).as("no leader is never steady").isFalse();
        assertThat(steady.look()).isFalse();
    }

    @Test
    void disturbedWhenTheLeadershipSeenIsGone() {
        leadership.set("n2@3");
        steady.look();
        ticker.advance(Duration.ofSeconds(5));
        assertThat(steady.look()).isTrue();
        leadership.set(null);
        assertThat(steady.disturbed()).as("an election under way").isTrue();
        leadership.set("n3@4");
        assertThat(steady.disturbed()).as("another leader").isTrue();
        leadership.set("n2@3");
        assertThat(steady.disturbed()).isFalse();
    }
}
