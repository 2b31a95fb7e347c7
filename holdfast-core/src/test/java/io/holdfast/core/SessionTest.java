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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class SessionTest {
    private final TableDriver d = new TableDriver();

    private Reply open(String id) {
        return d.apply(new Command.OpenSession(id, "client", TableDriver.TTL, 0));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "abcdefghijklmnop", // 16: the shortest
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789abcdefghijklmnopqrstuvwxyz",
            })
    void opensSessionsWithValidIds(String id) {
        assertThat(open(id)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(d.table().hasSession(id)).isTrue();
        assertThat(d.table().sessionTtlMillis(id)).isEqualTo(TableDriver.TTL);
    }

    @Test
    void opensASessionWithTheLongestId() {
        String id = "x".repeat(Limits.MAX_SESSION_ID);
        assertThat(open(id)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(d.table().hasSession(id)).isTrue();
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(
            strings = {
                "abcdefghijklmno", // 15 characters
                "abcdefghijklmnop.", // a dot
                "abcdefghijklmnop q", // a space
                "abcdefghijklmnopé", // not ASCII
                "abcdefghijklmnop/", // a slash
            })
    void refusesBadSessionIds(String id) {
        failed(open(id), ErrorCode.INVALID_ARGUMENT);
        assertThat(d.table().sessionCount()).isZero();
    }

    @Test
    void refusesASessionIdOverTheLimit() {
        failed(open("x".repeat(Limits.MAX_SESSION_ID + 1)), ErrorCode.INVALID_ARGUMENT);
        assertThat(d.table().sessionCount()).isZero();
    }

    @Test
    void reopeningWithTheSameSettingsIsARetry() {
        String id = TableDriver.sessionId("a");
        Command open = new Command.OpenSession(id, "a", 5_000, 100);
        assertThat(d.apply(open)).isEqualTo(Reply.Ok.INSTANCE);
        d.advance(1_000);
        assertThat(d.apply(open)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(d.table().sessionIds()).containsExactly(id);
    }

    @Test
    void everySessionIsVisitedOnceWithItsTtl() {
        String a = TableDriver.sessionId("a");
        String b = TableDriver.sessionId("b");
        d.apply(new Command.OpenSession(a, "a", 5_000, 0));
        d.apply(new Command.OpenSession(b, "b", 7_000, 0));
        java.util.Map<String, Long> seen = new java.util.HashMap<>();
        d.table()
                .forEachSessionTtl((id, ttl) ->
                        assertThat(seen.put(id, ttl)).as("visited once: " + id).isNull());
        assertThat(seen).containsOnly(java.util.Map.entry(a, 5_000L), java.util.Map.entry(b, 7_000L));
    }

    @Test
    void reopeningWithOtherSettingsIsRefusedAndKeepsTheSession() {
        String id = TableDriver.sessionId("a");
        d.apply(new Command.OpenSession(id, "a", 5_000, 100));
        byte[] before = d.snapshot();

        failed(d.apply(new Command.OpenSession(id, "a", 6_000, 100)), ErrorCode.INVALID_ARGUMENT);
        failed(d.apply(new Command.OpenSession(id, "a", 5_000, 0)), ErrorCode.INVALID_ARGUMENT);
        failed(d.apply(new Command.OpenSession(id, "b", 5_000, 100)), ErrorCode.INVALID_ARGUMENT);

        assertThat(d.table().sessionTtlMillis(id)).isEqualTo(5_000);
        d.assertUnchangedSince(before, "after the refused reopen");
    }

    @Test
    void keepAliveAnswersWhetherTheSessionLives() {
        Client a = d.open("a");
        assertThat(a.keepAlive()).isEqualTo(Reply.Ok.INSTANCE);
        failed(d.apply(new Command.KeepAlive(TableDriver.sessionId("nobody"))), ErrorCode.SESSION_EXPIRED);
    }

    @Test
    void closeReleasesHoldsCancelsWaitsAndGrantsTheNextWaiterWithoutLossOrDelay() {
        Client a = d.open("a", 5_000); // lock-delay applies to expiry only
        Client b = d.open("b");
        Client c = d.open("c");
        long x = token(a.acquire("x").apply());
        token(b.acquire("y").apply());
        assertThat(a.acquire("y").waitMillis(60_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(c.acquire("x").waitMillis(60_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        long cSeq = c.lastSeq();

        assertThat(a.close()).isEqualTo(Reply.Ok.INSTANCE);

        assertThat(d.events()).singleElement().isInstanceOfSatisfying(Event.Granted.class, g -> {
            assertThat(g.sessionId()).isEqualTo(c.id);
            assertThat(g.seq()).isEqualTo(cSeq);
            assertThat(g.name()).isEqualTo("x");
            assertThat(g.token()).isGreaterThan(x);
        });
        assertThat(d.table().hasSession(a.id)).isFalse();
        assertThat(d.describe("y").waiters()).isEmpty();
        assertThat(d.describe("x").holders()).extracting(h -> h.sessionId()).containsExactly(c.id);
    }

    @Test
    void expiryLosesEveryHoldThenEndsTheSessionCancelsWaitsAndGrantsTheNextWaiter() {
        Client a = d.open("a");
        Client b = d.open("b");
        Client c = d.open("c");
        long x = token(a.acquire("x").apply());
        long z = token(a.acquire("z").shared().owner(2).apply());
        token(b.acquire("y").apply());
        a.acquire("y").waitMillis(60_000).apply();
        c.acquire("x").waitMillis(60_000).apply();
        long cSeq = c.lastSeq();

        assertThat(d.expire(a)).isEqualTo(new Reply.Ok(1));

        assertThat(d.events())
                .containsExactly(
                        new Event.Lost(a.id, "x", x, Reason.SESSION_EXPIRED),
                        new Event.Lost(a.id, "z", z, Reason.SESSION_EXPIRED),
                        new Event.SessionExpired(a.id),
                        new Event.Granted(c.id, cSeq, "x", d.table().lastToken()));
        assertThat(d.table().hasSession(a.id)).isFalse();
        assertThat(d.describe("y").waiters()).isEmpty();
        assertThat(d.table().describe("z", d.time())).isEmpty();
        assertThat(d.table().isCurrentHolder("x", x)).isFalse();
    }

    @Test
    void expiringAnUnknownSessionChangesNothing() {
        Client a = d.open("a");
        d.expire(a);
        byte[] before = d.snapshot();

        assertThat(d.expire(a)).isEqualTo(new Reply.Ok(0));
        assertThat(d.events()).isEmpty();
        d.assertUnchangedSince(before, "after expiring an unknown session");
    }

    @Test
    void anExpiredSessionCanNoLongerAct() {
        Client a = d.open("a");
        long x = token(a.acquire("x").apply());
        d.expire(a);

        failed(a.acquire("y").apply(), ErrorCode.SESSION_EXPIRED);
        failed(a.release("x", x), ErrorCode.SESSION_EXPIRED);
        failed(a.renew("x", x), ErrorCode.SESSION_EXPIRED);
        failed(a.set("k", 0, new byte[] {1}), ErrorCode.SESSION_EXPIRED);
        failed(a.keepAlive(), ErrorCode.SESSION_EXPIRED);
        assertThat(d.table().resourceCount()).isZero();
        assertThat(d.table().register("k")).isEmpty();
    }
}
