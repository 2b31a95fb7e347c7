package io.holdfast.core;

import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClockTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");

    @Test
    void theClockIsTheLargestTimeSeen() {
        assertThat(d.table().now()).isEqualTo(TableDriver.START);
        d.tickAt(TableDriver.START + 10_000);

        d.at(TableDriver.START + 3_000).tick();
        token(a.acquire("x").apply());

        assertThat(d.table().now()).isEqualTo(TableDriver.START + 10_000);
    }

    @Test
    void deadlinesCountFromTheTableClockNotFromALaggingCommand() {
        long now = TableDriver.START + 10_000;
        d.tickAt(now);
        d.at(TableDriver.START); // a new leader whose clock is behind

        long x = token(a.acquire("x").lease(500).apply());
        b.acquire("x").waitMillis(1_000).apply();

        assertThat(d.table().nextDeadline()).isEqualTo(now + 500);
        assertThat(d.table().describe("x", 0).orElseThrow().holders().get(0).leaseLeft())
                .isEqualTo(Duration.ofMillis(500));
        assertThat(d.table().describe("x", 0).orElseThrow().waiters().get(0).timeLeft())
                .isEqualTo(Duration.ofMillis(1_000));
        assertThat(a.renew("x", x)).isEqualTo(new Reply.Ok(now + 500));
    }

    @Test
    void aLaggingTickExpiresByTheTableClock() {
        long x = token(a.acquire("x").lease(500).apply());
        d.at(TableDriver.START + 600);
        assertThat(a.keepAlive()).isEqualTo(Reply.Ok.INSTANCE); // any command moves the clock
        assertThat(d.allEvents()).isEmpty();

        d.tickAt(TableDriver.START + 100); // proposed by a leader whose clock is behind

        assertThat(d.events()).containsExactly(new Event.Lost(a.id, "x", x, Event.Reason.LEASE_TIMEOUT));
        assertThat(d.table().now()).isEqualTo(TableDriver.START + 600);
    }
}
