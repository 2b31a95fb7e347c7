package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Event.Reason;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

/** {@link Command.EndSession}: an operator's end of a session, as if its heartbeats had stopped. */
class EndSessionTest {
    private static final long DELAY = 2_000;

    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a", DELAY);
    private final Client b = d.open("b");

    @Test
    void theSessionEndsAsAnExpiryWithItsHoldersToldAndLockDelay() {
        long x = token(a.acquire("x").apply());
        long y = token(a.acquire("y").apply());
        Client c = d.open("c");
        token(c.acquire("z").apply());
        a.acquire("z").waitMillis(60_000).apply(); // a wait of its own, behind c
        b.acquire("x").waitMillis(60_000).apply();
        long bSeq = b.lastSeq();
        long endedAt = d.time();

        assertThat(d.apply(new Command.EndSession(a.id))).as("two grants taken").isEqualTo(new Reply.Ok(2));

        assertThat(d.events())
                .containsExactly(
                        new Event.Lost(a.id, "x", x, Reason.SESSION_EXPIRED),
                        new Event.Lost(a.id, "y", y, Reason.SESSION_EXPIRED),
                        new Event.SessionExpired(a.id));
        assertThat(d.table().hasSession(a.id)).isFalse();
        assertThat(d.describe("z").waiters()).as("its waits are dropped").isEmpty();
        assertThat(d.table().isCurrentHolder("x", x)).isFalse();

        d.tickAt(endedAt + DELAY - 1);
        assertThat(d.events()).as("lock-delay holds x").isEmpty();
        d.tickAt(endedAt + DELAY);
        assertThat(d.events())
                .hasSize(1)
                .first()
                .satisfies(e -> assertThat(e).isInstanceOfSatisfying(Event.Granted.class, g -> {
                    assertThat(g.sessionId()).isEqualTo(b.id);
                    assertThat(g.seq()).isEqualTo(bSeq);
                    assertThat(g.name()).isEqualTo("x");
                    assertThat(g.token()).isGreaterThan(x);
                }));

        failed(a.release("y", y), ErrorCode.SESSION_EXPIRED);
    }

    @Test
    void anUnknownOrAlreadyEndedSessionIsNamedAndNothingChanges() {
        d.apply(new Command.EndSession(a.id));
        byte[] before = d.snapshot();

        failed(d.apply(new Command.EndSession(a.id)), ErrorCode.SESSION_EXPIRED);
        failed(d.apply(new Command.EndSession("no-such-session-00")), ErrorCode.SESSION_EXPIRED);
        failed(d.apply(new Command.EndSession(null)), ErrorCode.SESSION_EXPIRED);

        assertThat(d.events()).isEmpty();
        d.assertUnchangedSince(before, "table");
    }

    @Test
    void aSessionWithNothingHeldEndsWithNoGrantsTaken() {
        assertThat(d.apply(new Command.EndSession(b.id))).isEqualTo(new Reply.Ok(0));
        assertThat(d.events()).containsExactly(new Event.SessionExpired(b.id));
    }
}
