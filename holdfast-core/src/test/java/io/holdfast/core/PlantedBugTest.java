package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.HolderInfo;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Each {@link PlantedBug} of the table changes what it does, and only with the bug: every test
 * runs one scenario on a correct table and on a table with that one bug, and shows where they part.
 * (Grant-without-quorum and release-lost-on-step-down live in the server's leader path,
 * sent-snapshot-ignored in its state machine: {@code holdfast verify --bug} shows each caught.)
 */
class PlantedBugTest {
    private static TableDriver with(PlantedBug... bugs) {
        return new TableDriver(new LockTable(bugs.length == 0 ? Set.of() : EnumSet.of(bugs[0], bugs)));
    }

    // ------------------------------------------------------------------------------- the enum

    @Test
    void namesAreKebabCaseAndRoundTrip() {
        assertThat(PlantedBug.values())
                .extracting(PlantedBug::cliName)
                .containsExactly(
                        "grant-without-quorum",
                        "token-from-term",
                        "release-by-anyone",
                        "skipped-wakeup",
                        "grant-after-expiry",
                        "retry-applied-twice",
                        "release-lost-on-step-down",
                        "sent-snapshot-ignored",
                        "multi-lock-partial-grant",
                        "stale-txn-compare",
                        "follower-extends-ttl",
                        "rejoin-keeps-dead-session");
        for (PlantedBug b : PlantedBug.values()) {
            assertThat(PlantedBug.byName(b.cliName())).isSameAs(b);
            assertThat(b.description()).isNotBlank().doesNotContain("\n");
        }
    }

    @Test
    void anUnknownNameIsRefusedListingTheKnownOnes() {
        assertThatThrownBy(() -> PlantedBug.byName("no-such-bug"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no-such-bug")
                .hasMessageContaining("grant-without-quorum")
                .hasMessageContaining("retry-applied-twice");
    }

    @Test
    void theDefaultTableHasNoBugs() {
        assertThat(new LockTable().plantedBugs()).isEmpty();
        assertThat(new TableDriver().table().plantedBugs()).isEmpty();
        assertThat(new LockTable(EnumSet.of(PlantedBug.SKIPPED_WAKEUP)).plantedBugs())
                .containsExactly(PlantedBug.SKIPPED_WAKEUP);
    }

    @Test
    void aSnapshotReadWithBugsKeepsThem() throws Exception {
        TableDriver d = with(PlantedBug.RELEASE_BY_ANYONE);
        Client a = d.open("a");
        token(a.acquire("x").apply());

        TableDriver copy = d.restored();

        assertThat(copy.table().plantedBugs()).containsExactly(PlantedBug.RELEASE_BY_ANYONE);
        assertThat(copy.snapshot()).isEqualTo(d.snapshot());
        assertThat(TableDriver.snapshotOf(new LockTable())).isEqualTo(TableDriver.snapshotOf(with().table()));
    }

    // ------------------------------------------------------------------------------- token-from-term

    /** Two grants of two names in one term; returns their tokens. */
    private static long[] twoGrantsInOneTerm(TableDriver d) {
        Client a = d.open("a");
        Client b = d.open("b");
        d.table().setTerm(7);
        long x = token(a.acquire("x").apply());
        long y = token(b.acquire("y").apply());
        a.release("x", x);
        long x2 = token(b.acquire("x").apply());
        return new long[] {x, y, x2};
    }

    @Test
    void tokenFromTermGivesGrantsInOneTermTheSameToken() throws Exception {
        assertThat(twoGrantsInOneTerm(new TableDriver())).containsExactly(1, 2, 3);

        TableDriver d = with(PlantedBug.TOKEN_FROM_TERM);
        assertThat(twoGrantsInOneTerm(d)).containsExactly(7, 7, 7);
        // The snapshot still reads back (its counter bounds every token).
        assertThat(d.restored().snapshot()).isEqualTo(d.snapshot());
    }

    // ------------------------------------------------------------------------------- release-by-anyone

    @Test
    void releaseByAnyoneLetsAnotherSessionReleaseTheLock() {
        TableDriver ok = new TableDriver();
        long t = token(ok.open("a").acquire("x").apply());
        failed(ok.open("intruder").release("x", t), ErrorCode.NOT_OWNER);
        failed(ok.client("intruder").release("x", 999), ErrorCode.NOT_OWNER);
        assertThat(ok.table().isCurrentHolder("x", t)).isTrue();

        TableDriver d = with(PlantedBug.RELEASE_BY_ANYONE);
        Client a = d.open("a");
        Client waiter = d.open("w");
        Client intruder = d.open("intruder");
        long held = token(a.acquire("x").apply());
        waiter.acquire("x").waitMillis(10_000).apply();

        assertThat(intruder.release("x", 999))
                .as("a made-up token frees the holder")
                .isEqualTo(new Reply.Ok(0));
        assertThat(d.table().isCurrentHolder("x", held)).isFalse();
        assertThat(d.describe("x").holders()).extracting(HolderInfo::sessionId).containsExactly(waiter.id);
        // And the first holder's late release, with its old token, frees the waiter's grant.
        assertThat(a.release("x", held)).isEqualTo(new Reply.Ok(0));
        assertThat(d.table().describe("x", d.time())).isEmpty();
    }

    // ------------------------------------------------------------------------------- skipped-wakeup

    @Test
    void skippedWakeupLeavesTheHeadWaiterWaitingOnAFreeLock() {
        TableDriver ok = new TableDriver();
        long t = token(ok.open("a").acquire("x").apply());
        ok.open("b").acquire("x").waitMillis(5_000).apply();
        ok.client("a").release("x", t);
        assertThat(ok.events()).singleElement().isInstanceOf(Event.Granted.class);

        TableDriver d = with(PlantedBug.SKIPPED_WAKEUP);
        Client a = d.open("a");
        Client b = d.open("b");
        long held = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(5_000).apply();
        long bSeq = b.lastSeq();

        assertThat(a.release("x", held)).isEqualTo(new Reply.Ok(0));
        assertThat(d.events()).isEmpty();
        assertThat(d.describe("x").holders()).isEmpty();
        assertThat(d.describe("x").waiters()).extracting(WaiterInfo::sessionId).containsExactly(b.id);

        d.advance(5_000).tick();
        assertThat(d.events()).containsExactly(new Event.WaitTimedOut(b.id, bSeq, "x"));
    }

    // ------------------------------------------------------------------------------- grant-after-expiry

    @Test
    void grantAfterExpiryHandsTheLockToAnExpiredSession() throws Exception {
        TableDriver ok = new TableDriver();
        long t = token(ok.open("a").acquire("x").apply());
        ok.open("b").acquire("x").waitMillis(60_000).apply();
        ok.expire(ok.client("b"));
        ok.client("a").release("x", t);
        assertThat(ok.table().describe("x", ok.time())).isEmpty();
        assertThat(ok.table().hasSession(ok.client("b").id)).isFalse();

        TableDriver d = with(PlantedBug.GRANT_AFTER_EXPIRY);
        Client a = d.open("a");
        Client b = d.open("b");
        long held = token(a.acquire("x").apply());
        b.acquire("x").waitMillis(60_000).apply();
        long bSeq = b.lastSeq();

        d.expire(b);
        assertThat(d.events()).contains(new Event.SessionExpired(b.id));
        assertThat(a.release("x", held)).isEqualTo(new Reply.Ok(0));

        assertThat(d.events()).containsExactly(new Event.Granted(b.id, bSeq, "x", held + 1));
        assertThat(d.describe("x").holders()).extracting(HolderInfo::sessionId).containsExactly(b.id);
        assertThat(d.open("c").acquire("x").apply()).isEqualTo(Reply.Busy.INSTANCE);
        // The dead session stays in the table, so a snapshot still reads back.
        assertThat(d.restored().snapshot()).isEqualTo(d.snapshot());
    }

    // ------------------------------------------------------------------------------- retry-applied-twice

    @Test
    void retryAppliedTwiceAppliesARetriedCommandAgain() {
        TableDriver ok = new TableDriver();
        Client oa = ok.open("a");
        RegisterSet set = new RegisterSet(oa.next(), "k", 0, new byte[] {1}, null, 0);
        assertThat(ok.apply(set)).isEqualTo(new Reply.Written(1));
        assertThat(ok.apply(set)).isEqualTo(new Reply.Written(1));

        TableDriver d = with(PlantedBug.RETRY_APPLIED_TWICE);
        Client a = d.open("a");
        RegisterSet again = new RegisterSet(a.next(), "k", 0, new byte[] {1}, null, 0);
        assertThat(d.apply(again)).isEqualTo(new Reply.Written(1));
        failed(d.apply(again), ErrorCode.CONFLICT);

        // A retried acquire is applied afresh: its owner holds the lock by then, so the retry finds
        // it busy instead of learning its grant.
        Command.Acquire okAcquire = oa.acquire("x").command();
        long okToken = token(ok.apply(okAcquire));
        assertThat(ok.apply(okAcquire)).isEqualTo(new Reply.Granted(okToken));
        Command.Acquire acquire = a.acquire("x").command();
        token(d.apply(acquire));
        assertThat(d.apply(acquire)).isEqualTo(Reply.Busy.INSTANCE);
    }

    // ------------------------------------------------------------------ stale-txn-compare

    /** Two transactions that read version 1 of a key both write it: the second overwrites the first. */
    @Test
    void aStaleTxnCompareLetsTheSecondOfTwoTransactionsOfOneVersionCommit() {
        for (boolean planted : new boolean[] {false, true}) {
            TableDriver d = planted ? with(PlantedBug.STALE_TXN_COMPARE) : with();
            Client a = d.open("a");
            Client b = d.open("b");
            a.set("acct", 0, KeysTest.bytes("100"));
            Reply first = d.apply(txn(a, 1, "90"));
            Reply second = d.apply(txn(b, 1, "80"));
            assertThat(((Reply.Transacted) first).succeeded()).isTrue();
            assertThat(((Reply.Transacted) second).succeeded())
                    .as("planted: %s", planted)
                    .isEqualTo(planted);
            assertThat(d.table().register("acct").orElseThrow().version()).isEqualTo(planted ? 3 : 2);
            // a compare of the current version holds with the bug as without it
            assertThat(((Reply.Transacted) d.apply(txn(a, planted ? 3 : 2, "70"))).succeeded())
                    .isTrue();
        }
    }

    // ------------------------------------------------------------------ rejoin-keeps-dead-session

    /** A key moved by an attached put from one session to another goes when the first ends, with the bug only. */
    @Test
    void aRejoinKeepsTheDeadSessionsKeyOnlyWithTheBug() {
        for (boolean planted : new boolean[] {false, true}) {
            TableDriver d = planted ? with(PlantedBug.REJOIN_KEEPS_DEAD_SESSION) : with();
            Client old = d.open("old");
            Client rejoined = d.open("rejoined");
            assertThat(d.apply(attach(old, "1"))).isNotInstanceOf(Reply.Failed.class);
            assertThat(d.apply(attach(rejoined, "2"))).isNotInstanceOf(Reply.Failed.class);
            d.expire(old);
            assertThat(d.table().register("group/m")).as("planted: %s", planted).matches(r -> r.isPresent() != planted);
        }
    }

    /** Puts {@code value} to "group/m" attached to {@code c}'s session, whatever its version. */
    private static Transaction attach(Client c, String value) {
        return new Transaction(
                c.next(),
                List.of(),
                List.of(new Transaction.Op.Put("group/m", KeyDelete.ANY_VERSION, KeysTest.bytes(value), true, 0)),
                List.of());
    }

    /** Puts {@code value} to "acct" if its version is {@code version}. */
    private static Transaction txn(Client c, long version, String value) {
        return new Transaction(
                c.next(),
                List.of(new Transaction.Compare.Version("acct", Transaction.Order.EQUAL, version)),
                List.of(put(value)),
                List.of());
    }

    private static Transaction.Op put(String value) {
        return new Transaction.Op.Put("acct", KeyDelete.ANY_VERSION, KeysTest.bytes(value), false, 0);
    }
}
