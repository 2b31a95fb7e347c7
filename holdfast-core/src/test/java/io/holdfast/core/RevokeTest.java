package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Event;
import io.holdfast.model.Event.Reason;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

class RevokeTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final Client c = d.open("c");

    @Test
    void revokeTakesEveryGrantAndGrantsTheNextWaiter() {
        long ta = token(a.acquire("x").shared().apply());
        long tb = token(b.acquire("x").shared().apply());
        c.acquire("x").waitMillis(10_000).apply();
        long cSeq = c.lastSeq();
        assertThat(d.table().isCurrentHolder("x", ta)).isTrue();

        assertThat(d.revoke("x")).isEqualTo(new Reply.Ok(2));

        assertThat(d.events())
                .containsExactly(
                        new Event.Lost(a.id, "x", ta, Reason.REVOKED),
                        new Event.Lost(b.id, "x", tb, Reason.REVOKED),
                        new Event.Granted(c.id, cSeq, "x", tb + 1));
        assertThat(d.table().isCurrentHolder("x", ta)).isFalse();
        assertThat(d.table().isCurrentHolder("x", tb)).isFalse();
        assertThat(d.table().isCurrentHolder("x", tb + 1)).isTrue();
        failed(a.release("x", ta), ErrorCode.NOT_OWNER);
    }

    @Test
    void revokingAFreeOrUnknownNameDoesNothing() {
        byte[] before = d.snapshot();

        assertThat(d.revoke("nothing")).isEqualTo(new Reply.Ok(0));

        assertThat(d.events()).isEmpty();
        d.assertUnchangedSince(before, "table");
    }

    @Test
    void revokeIsNotAnExpiry() {
        Client delayed = d.open("delayed", 5_000);
        token(delayed.acquire("x").apply());

        d.revoke("x");

        assertThat(d.table().hasSession(delayed.id)).isTrue();
        assertThat(token(c.acquire("x").apply()))
                .as("no lock-delay after a revoke")
                .isPositive();
    }
}
