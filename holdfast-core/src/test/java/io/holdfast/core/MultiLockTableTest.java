package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.HolderInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The multi-lock command ({@link Command.AcquireAll}): all or none in one step, one wait with a
 * place in every name's queue, granted when it heads them all, and released, timed out, cancelled
 * and deadlock-checked as one wait.
 */
class MultiLockTableTest {
    private final TableDriver t = new TableDriver();

    private static List<Long> tokens(Reply reply) {
        assertThat(reply).isInstanceOf(Reply.GrantedAll.class);
        return ((Reply.GrantedAll) reply).tokens();
    }

    private List<Long> holderTokens(String name) {
        return t.describe(name).holders().stream().map(HolderInfo::fencingToken).toList();
    }

    @Test
    void freeNamesAreGrantedInOneStepEachWithItsOwnToken() {
        Client a = t.open("a");
        List<Long> tokens = tokens(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, "m/a", "m/b", "m/c"));
        assertThat(tokens).hasSize(3).isSorted().doesNotHaveDuplicates();
        assertThat(holderTokens("m/a")).containsExactly(tokens.get(0));
        assertThat(holderTokens("m/c")).containsExactly(tokens.get(2));
        // Each grant is released on its own, by name and token.
        assertThat(a.release("m/b", tokens.get(1))).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(t.table().describe("m/b", t.time())).isEmpty();
    }

    @Test
    void aTryThatFindsOneNameBusyTakesNothing() {
        Client a = t.open("a");
        Client b = t.open("b");
        token(b.acquire("m/b").apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, "m/a", "m/b")).isEqualTo(Reply.Busy.INSTANCE);
        assertThat(t.table().describe("m/a", t.time())).isEmpty();
        assertThat(t.describe("m/b").waiters()).isEmpty();
        assertThat(t.table().stats().holds()).isEqualTo(1);
    }

    @Test
    void aQueuedMultiLockIsGrantedOnlyWhenEveryNameIsFreeAndTellsEachGrant() {
        Client a = t.open("a");
        Client b = t.open("b");
        long ta = token(b.acquire("m/a").apply());
        long tb = token(b.acquire("m/b").owner(2).apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        long seq = a.lastSeq();

        b.release("m/a", ta);
        assertThat(t.events()).as("m/a alone is not enough").isEmpty();
        assertThat(t.describe("m/a").holders()).isEmpty();
        assertThat(t.describe("m/a").waiters()).hasSize(1);

        b.release("m/b", tb);
        assertThat(t.events()).hasSize(2).allSatisfy(e -> {
            assertThat(e).isInstanceOf(Event.Granted.class);
            assertThat(((Event.Granted) e).seq()).isEqualTo(seq);
        });
        assertThat(t.events()).extracting(e -> ((Event.Granted) e).name()).containsExactly("m/a", "m/b");
        Event.Granted ga = (Event.Granted) t.events().get(0);
        Event.Granted gb = (Event.Granted) t.events().get(1);
        assertThat(holderTokens("m/a")).containsExactly(ga.token());
        assertThat(holderTokens("m/b")).containsExactly(gb.token());
        // A retry of the same invocation learns the whole grant.
        Command.AcquireAll retry = new Command.AcquireAll(
                new Command.Invocation(a.id, seq, 0), List.of("m/a", "m/b"), LockMode.EXCLUSIVE, 1, 10_000, 0);
        assertThat(tokens(t.apply(retry))).containsExactly(ga.token(), gb.token());
    }

    @Test
    void itKeepsItsPlaceSoALaterSingleRequestWaitsBehindItAndItIsNotStarved() {
        Client a = t.open("a");
        Client b = t.open("b");
        Client c = t.open("c");
        long ta = token(b.acquire("m/a").apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        // m/b is free, but the multi-lock stands first in its queue: c waits behind it.
        assertThat(c.acquire("m/b").waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(c.acquire("m/b").owner(2).apply()).as("a try").isEqualTo(Reply.Busy.INSTANCE);
        b.release("m/a", ta);
        assertThat(t.events()).extracting(e -> ((Event.Granted) e).sessionId()).containsExactly(a.id, a.id);
    }

    @Test
    void itWaitsBehindThoseAheadOfItInEveryQueue() {
        Client a = t.open("a");
        Client b = t.open("b");
        Client c = t.open("c");
        long tb = token(b.acquire("m/b").apply());
        assertThat(c.acquire("m/b").waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        b.release("m/b", tb);
        assertThat(t.events())
                .singleElement()
                .satisfies(e -> assertThat(((Event.Granted) e).sessionId()).isEqualTo(c.id));
        assertThat(t.describe("m/a").holders())
                .as("m/a is kept for nobody while it waits")
                .isEmpty();
    }

    @Test
    void sharedMultiLocksShareAndAGrantCascadesThroughTheQueuesItLeaves() {
        Client a = t.open("a");
        Client b = t.open("b");
        Client c = t.open("c");
        long tx = token(c.acquire("m/x").apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/x")).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(b.acquireAll(LockMode.SHARED, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(c.acquire("m/b").owner(2).shared().waitMillis(10_000).apply())
                .as("behind b's shared multi-lock in m/b")
                .isEqualTo(Reply.Queued.INSTANCE);
        c.release("m/x", tx);
        // a's grant, then a holds m/a: b waits on.
        assertThat(t.events()).extracting(e -> ((Event.Granted) e).sessionId()).containsExactly(a.id, a.id);
        List<Long> aTokens =
                t.events().stream().map(e -> ((Event.Granted) e).token()).toList();
        a.release("m/x", aTokens.get(1));
        assertThat(t.events()).isEmpty();
        a.release("m/a", aTokens.get(0));
        // b's shared grant frees the queue of m/b, where c's read is granted beside it.
        assertThat(t.events())
                .extracting(e -> ((Event.Granted) e).sessionId() + " " + ((Event.Granted) e).name())
                .containsExactly(b.id + " m/a", b.id + " m/b", c.id + " m/b");
    }

    @Test
    void itTimesOutAsOneWaitAndThoseBehindItMoveOn() {
        Client a = t.open("a");
        Client b = t.open("b");
        Client c = t.open("c");
        token(b.acquire("m/a").apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 1_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        long seq = a.lastSeq();
        assertThat(c.acquire("m/b").waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        t.tickAt(t.time() + 1_000);
        assertThat(t.events()).hasSize(2);
        assertThat(t.events().get(0)).isEqualTo(new Event.WaitTimedOut(a.id, seq, "m/a"));
        assertThat(t.events().get(1)).isInstanceOf(Event.Granted.class);
        assertThat(((Event.Granted) t.events().get(1)).sessionId()).isEqualTo(c.id);
        assertThat(t.describe("m/a").waiters()).isEmpty();
        assertThat(t.table().nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aCancelWithdrawsEveryPlaceAndAfterTheGrantAnswersWithTheTokens() {
        Client a = t.open("a");
        Client b = t.open("b");
        Client c = t.open("c");
        long ta = token(b.acquire("m/a").apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        long first = a.lastSeq();
        assertThat(c.acquire("m/b").waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(a.cancelWait("m/a", first)).isEqualTo(new Reply.Ok(1));
        assertThat(t.events())
                .singleElement()
                .satisfies(e -> assertThat(((Event.Granted) e).sessionId()).isEqualTo(c.id));
        assertThat(t.describe("m/a").waiters()).isEmpty();

        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/c")).isEqualTo(Reply.Queued.INSTANCE);
        long second = a.lastSeq();
        b.release("m/a", ta);
        List<Long> granted =
                t.events().stream().map(e -> ((Event.Granted) e).token()).toList();
        assertThat(tokens(a.cancelWait("m/a", second))).isEqualTo(granted);
    }

    @Test
    void aSessionThatEndsWhileItsMultiLockWaitsLeavesEveryQueue() {
        Client a = t.open("a");
        Client b = t.open("b");
        Client c = t.open("c");
        token(b.acquire("m/a").apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(c.acquire("m/b").waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        t.expire(a);
        assertThat(t.events())
                .containsExactly(new Event.SessionExpired(a.id), t.events().get(1));
        assertThat(((Event.Granted) t.events().get(1)).sessionId()).isEqualTo(c.id);
        assertThat(t.describe("m/a").waiters()).isEmpty();
    }

    @Test
    void aWaitThatWouldCloseACycleIsRefusedAsADeadlock() {
        Client a = t.open("a");
        Client b = t.open("b");
        token(a.acquire("m/a").apply());
        token(b.acquire("m/b").apply());
        assertThat(a.acquire("m/b").waitMillis(10_000).apply()).isEqualTo(Reply.Queued.INSTANCE);
        Reply.Failed f = failed(b.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/c"), ErrorCode.DEADLOCK);
        assertThat(f.cycle()).contains("m/a", "m/b");
        assertThat(t.describe("m/a").waiters()).isEmpty();
        assertThat(t.table().describe("m/c", t.time())).isEmpty();

        // And the other way round: a single wait behind a waiting multi-lock that waits for it.
        Client c = t.open("c");
        Client d = t.open("d");
        token(c.acquire("m/x").apply());
        assertThat(d.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/x", "m/y")).isEqualTo(Reply.Queued.INSTANCE);
        // c holds m/x and wants m/y, where d's multi-lock stands first and waits for c.
        failed(c.acquire("m/y").waitMillis(10_000).apply(), ErrorCode.DEADLOCK);
    }

    @Test
    void malformedRequestsAreRefusedAndChangeNothing() {
        Client a = t.open("a");
        token(a.acquire("m/held").apply());
        t.apply(new Command.Acquire(a.next(), "m/sem", LockMode.PERMITS, 1, 2, 1, 0, 0));
        LockTable.Stats before = t.table().stats();
        failed(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, "m/b", "m/a"), ErrorCode.INVALID_ARGUMENT);
        failed(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, "m/a", "m/a"), ErrorCode.INVALID_ARGUMENT);
        failed(a.acquireAll(LockMode.EXCLUSIVE, 1, 0), ErrorCode.INVALID_ARGUMENT);
        failed(a.acquireAll(LockMode.PERMITS, 1, 0, "m/a"), ErrorCode.INVALID_ARGUMENT);
        failed(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, "m/a", "m/sem"), ErrorCode.INVALID_ARGUMENT);
        assertThat(failed(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, "m/a", "m/held"), ErrorCode.INVALID_ARGUMENT)
                        .message())
                .contains("not reentrant");
        failed(a.acquireAll(LockMode.EXCLUSIVE, 1, -1, "m/a"), ErrorCode.INVALID_ARGUMENT);
        failed(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, "m/a", ""), ErrorCode.INVALID_ARGUMENT);
        String[] tooMany = new String[Limits.MAX_MULTI_NAMES + 1];
        for (int i = 0; i < tooMany.length; i++) {
            tooMany[i] = String.format("m/%03d", i);
        }
        failed(a.acquireAll(LockMode.EXCLUSIVE, 1, 0, tooMany), ErrorCode.INVALID_ARGUMENT);
        failed(
                t.apply(new Command.AcquireAll(a.next(), null, LockMode.EXCLUSIVE, 1, 0, 0)),
                ErrorCode.INVALID_ARGUMENT);
        assertThat(t.table().stats()).isEqualTo(before);
        assertThat(t.table().describe("m/a", t.time())).isEmpty();
    }

    @Test
    void aSnapshotCarriesAQueuedMultiLockInFormat4AndOtherwiseStaysInFormat3() throws Exception {
        Client a = t.open("a");
        Client b = t.open("b");
        long ta = token(b.acquire("m/a").apply());
        assertThat(formatOf(t.snapshot())).isEqualTo(3);
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        assertThat(formatOf(t.snapshot())).isEqualTo(4);

        TableDriver copy = t.restored();
        assertThat(copy.snapshot()).isEqualTo(t.snapshot());
        for (TableDriver d : List.of(t, copy)) {
            d.client("b").release("m/a", ta);
            assertThat(d.events()).hasSize(2);
        }
        assertThat(copy.allEvents()
                        .subList(copy.allEvents().size() - 2, copy.allEvents().size()))
                .isEqualTo(t.events());
        assertThat(copy.snapshot()).isEqualTo(t.snapshot());
        assertThat(formatOf(t.snapshot())).as("the grant is remembered").isEqualTo(4);
        long tokenB = ((Event.Granted) t.events().get(1)).token();
        // Once the client acknowledged the grant, nothing of version 4 is left.
        t.client("a").acknowledgeBelow(t.client("a").lastSeq() + 1);
        t.client("a").release("m/b", tokenB);
        assertThat(formatOf(t.snapshot())).isEqualTo(3);
    }

    @Test
    void aTimedOutMultiLockRestoredFromASnapshotTimesOutOnce() throws Exception {
        Client a = t.open("a");
        Client b = t.open("b");
        token(b.acquire("m/b").apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 1_000, "m/a", "m/b", "m/c"))
                .isEqualTo(Reply.Queued.INSTANCE);
        TableDriver copy = t.restored();
        for (TableDriver d : List.of(t, copy)) {
            d.tickAt(d.time() + 1_000);
            assertThat(d.events()).singleElement().isInstanceOf(Event.WaitTimedOut.class);
            assertThat(d.describe("m/b").waiters())
                    .extracting(WaiterInfo::sessionId)
                    .isEmpty();
        }
        assertThat(copy.snapshot()).isEqualTo(t.snapshot());
    }

    @Test
    void plantedBugGrantsAMultiLockWhoseOtherNameIsHeld() {
        TableDriver bad = new TableDriver(new LockTable(EnumSet.of(PlantedBug.MULTI_LOCK_PARTIAL_GRANT)));
        Client a = bad.open("a");
        Client b = bad.open("b");
        long ta = token(b.acquire("m/a").apply());
        token(b.acquire("m/b").owner(2).apply());
        assertThat(a.acquireAll(LockMode.EXCLUSIVE, 1, 10_000, "m/a", "m/b")).isEqualTo(Reply.Queued.INSTANCE);
        b.release("m/a", ta);
        assertThat(bad.describe("m/b").holders()).as("two exclusive holders").hasSize(2);
    }

    private static int formatOf(byte[] snapshot) throws Exception {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
        in.readInt();
        return in.readInt();
    }
}
