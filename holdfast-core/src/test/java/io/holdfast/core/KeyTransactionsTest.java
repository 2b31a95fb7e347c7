package io.holdfast.core;

import static io.holdfast.core.KeysTest.bytes;
import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.WatchEvent;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.OpResult;
import io.holdfast.model.Transaction;
import io.holdfast.model.Transaction.Compare;
import io.holdfast.model.Transaction.Op;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Counters and transactions over keys through the table: one step each, all or nothing, once. */
class KeyTransactionsTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final List<WatchEvent> changes = new ArrayList<>();

    private Reply apply(Command c) {
        changes.clear();
        return d.table().apply(Command.Envelope.of(d.time(), c), EventSink.NONE, changes::add);
    }

    private Reply add(Client c, String key, long delta) {
        return apply(new CounterAdd(c.next(), key, delta));
    }

    private Reply txn(Client c, List<Compare> compares, List<Op> then, List<Op> otherwise) {
        return apply(new Transaction(c.next(), compares, then, otherwise));
    }

    private static Op put(String key, String value) {
        return new Op.Put(key, KeyDelete.ANY_VERSION, bytes(value), false, 0);
    }

    private byte[] value(String key) {
        return d.table().register(key).orElseThrow().value();
    }

    private static byte[] counter(long n) {
        return ByteBuffer.allocate(8).putLong(n).array();
    }

    @Test
    void aCounterAddAnswersTheNewValueAndCreatesAnAbsentCounter() {
        assertThat(add(a, "hits", 5)).isEqualTo(new Reply.Counted(5, 1));
        assertThat(add(b, "hits", -7)).isEqualTo(new Reply.Counted(-2, 2));
        assertThat(value("hits")).isEqualTo(counter(-2));
        assertThat(changes).containsExactly(WatchEvent.registerSet("hits", b.id, 2, counter(-2)));
    }

    @Test
    void anAddToAValueThatIsNotACounterOrThatWouldOverflowIsRefusedAndChangesNothing() {
        a.set("text", 0, bytes("seven"));
        Reply.Failed f = failed(add(a, "text", 1), ErrorCode.INVALID_ARGUMENT);
        assertThat(f.message()).isEqualTo("text holds 5 bytes, not a counter (exactly 8 bytes)");
        assertThat(f.currentVersion()).isEqualTo(1);

        add(a, "n", Long.MAX_VALUE - 1);
        assertThat(add(a, "n", 1)).isEqualTo(new Reply.Counted(Long.MAX_VALUE, 2));
        assertThat(failed(add(a, "n", 1), ErrorCode.INVALID_ARGUMENT).message()).contains("overflow");
        add(a, "m", Long.MIN_VALUE);
        failed(add(a, "m", -1), ErrorCode.INVALID_ARGUMENT);
        assertThat(value("n")).isEqualTo(counter(Long.MAX_VALUE));
        assertThat(value("m")).isEqualTo(counter(Long.MIN_VALUE));
    }

    @Test
    void aCounterKeepsItsSessionAndItsDeadline() {
        long start = d.time();
        apply(new RegisterSet(a.next(), "n", 0, counter(1), null, 0, true, true, 3_000));
        d.advance(1_000);
        assertThat(add(b, "n", 1)).isEqualTo(new Reply.Counted(2, 2));
        assertThat(d.table().key("n").orElseThrow().owner()).isEqualTo(a.id);
        assertThat(d.table().key("n").orElseThrow().expiresAt()).isEqualTo(start + 3_000);
    }

    @Test
    void aRetriedAddIsAnsweredFromMemoryAndCountedOnce() {
        CounterAdd once = new CounterAdd(a.next(), "n", 1);
        assertThat(apply(once)).isEqualTo(new Reply.Counted(1, 1));
        assertThat(apply(once)).isEqualTo(new Reply.Counted(1, 1));
        assertThat(value("n")).isEqualTo(counter(1));
    }

    @Test
    void aTransactionMovesAValueUnderAFencingTokenBothOrNeither() {
        a.set("from", 0, bytes("job-17"));
        long t = token(a.acquire("leader").apply());
        List<Op> move =
                List.of(new Op.Put("to", 0, bytes("job-17"), false, 0), new Op.Delete("from", 1), new Op.Get("to"));

        Reply moved = txn(a, List.of(new Compare.Fence("leader", t)), move, List.of(new Op.Get("from")));

        assertThat(moved)
                .isEqualTo(new Reply.Transacted(
                        true,
                        List.of(
                                new OpResult(1, null, 0),
                                new OpResult(1, null, 0),
                                new OpResult(1, bytes("job-17"), 0))));
        assertThat(d.table().register("from")).isEmpty();
        assertThat(value("to")).isEqualTo(bytes("job-17"));
        assertThat(changes)
                .as("one entry's changes, in op order")
                .containsExactly(
                        WatchEvent.registerSet("to", a.id, 1, bytes("job-17")),
                        WatchEvent.registerDeleted("from", a.id, 1, null));
    }

    @Test
    void aStaleTokenRunsTheElseBranchAndChangesNothingElse() {
        a.set("from", 0, bytes("job-17"));
        long stale = token(a.acquire("leader").apply());
        d.expire(a);
        long current = token(b.acquire("leader").apply());
        assertThat(current).isGreaterThan(stale);
        Client zombie = d.open("zombie");
        zombie.set("x", 0, bytes("x"));

        Reply r = txn(
                zombie,
                List.of(new Compare.Fence("leader", stale)),
                List.of(put("to", "job-17"), new Op.Delete("from", 1)),
                List.of(new Op.Get("from")));

        assertThat(r).isEqualTo(new Reply.Transacted(false, List.of(new OpResult(1, bytes("job-17"), 0))));
        assertThat(d.table().register("to")).isEmpty();
        assertThat(d.table().register("from")).isPresent();
        assertThat(changes).isEmpty();
        Reply another = txn(zombie, List.of(new Compare.Fence("leader", current)), List.of(put("to", "x")), List.of());
        assertThat(((Reply.Transacted) another).succeeded())
                .as("a current token of another session is not the transaction's fence")
                .isFalse();
    }

    @Test
    void anOpThatFailsUndoesTheOpsBeforeItAndNamesItself() {
        a.set("x", 0, bytes("one"));
        add(a, "n", 3);

        Reply r = txn(
                a,
                List.of(),
                List.of(
                        put("new", "v"),
                        new Op.Add("n", 1),
                        new Op.Delete("x", 1),
                        put("x", "again"),
                        new Op.Delete("x", 7)),
                List.of());

        Reply.Failed f = failed(r, ErrorCode.CONFLICT);
        assertThat(f.message()).isEqualTo("then op 5: x is at version 1, not 7");
        assertThat(f.currentVersion())
                .as("the version the op saw inside the transaction")
                .isEqualTo(1);
        assertThat(changes).isEmpty();
        assertThat(d.table().register("new")).isEmpty();
        assertThat(value("n")).isEqualTo(counter(3));
        assertThat(value("x")).isEqualTo(bytes("one"));
        assertThat(d.table().register("x").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aTransactionRefusedMidwayLeavesEveryKeyAndWhatIsDerivedAsItWas() {
        a.set("x", 0, bytes("one"));
        apply(new RegisterSet(a.next(), "old", 0, bytes("o"), null, 0, true, true, 9_000));
        List<io.holdfast.model.KeyPage.Entry> before = d.table()
                .keys("", null, 100, k -> true, io.holdfast.model.ChangePosition.START)
                .keys();
        LockTable.Stats stats = d.table().stats();
        long deadline = d.table().nextDeadline();

        Reply r = txn(
                a,
                List.of(),
                List.of(
                        new Op.Put("new", 0, bytes("v"), true, 2_000),
                        new Op.Put("old", 1, bytes("changed"), false, 0),
                        new Op.Delete("x", 1),
                        new Op.Add("new", 1)),
                List.of());

        assertThat(failed(r, ErrorCode.INVALID_ARGUMENT).message())
                .isEqualTo("then op 4: new holds 1 bytes, not a counter (exactly 8 bytes)");
        assertThat(d.table()
                        .keys("", null, 100, k -> true, io.holdfast.model.ChangePosition.START)
                        .keys())
                .isEqualTo(before);
        assertThat(d.table().stats()).isEqualTo(stats);
        assertThat(d.table().nextDeadline()).isEqualTo(deadline);
        assertThat(changes).isEmpty();
        d.expire(a);
        assertThat(d.table()
                        .keys("", null, 100, k -> true, io.holdfast.model.ChangePosition.START)
                        .keys())
                .as("the session's keys: the one it owned before, not the one the failed op attached")
                .extracting(io.holdfast.model.KeyPage.Entry::key)
                .containsExactly("x");
    }

    @Test
    void comparesOnVersionValueAbsenceHolderAndSessionChooseTheBranch() {
        a.set("k", 0, bytes("v"));
        a.acquire("l").apply();
        List<Op> get = List.of(new Op.Get("k"));
        for (Compare holds : List.of(
                new Compare.Version("k", Transaction.Order.EQUAL, 1),
                new Compare.Version("k", Transaction.Order.GREATER, 0),
                new Compare.Version("k", Transaction.Order.LESS, 2),
                new Compare.Version("k", Transaction.Order.NOT_EQUAL, 3),
                new Compare.Version("absent", Transaction.Order.EQUAL, 0),
                new Compare.Value("k", bytes("v")),
                new Compare.Absent("absent"),
                new Compare.Holder("l", a.id),
                new Compare.SessionAlive(b.id))) {
            assertThat(((Reply.Transacted) txn(b, List.of(holds), get, List.of())).succeeded())
                    .as("%s holds", holds)
                    .isTrue();
        }
        for (Compare fails : List.of(
                new Compare.Version("k", Transaction.Order.EQUAL, 2),
                new Compare.Value("k", bytes("w")),
                new Compare.Value("absent", new byte[0]),
                new Compare.Absent("k"),
                new Compare.Holder("l", b.id),
                new Compare.Holder("free", a.id),
                new Compare.SessionAlive("session-nobody-0123456789"))) {
            assertThat(((Reply.Transacted) txn(b, List.of(fails), get, List.of())).succeeded())
                    .as("%s fails", fails)
                    .isFalse();
        }
    }

    @Test
    void aRetriedTransactionIsAnsweredFromMemoryAndAppliedOnce() {
        Transaction t = new Transaction(a.next(), List.of(), List.of(new Op.Add("n", 1), new Op.Get("n")), List.of());
        Reply first = apply(t);
        assertThat(apply(t)).isEqualTo(first);
        assertThat(value("n")).isEqualTo(counter(1));
        assertThat(changes).as("the retry changes nothing").isEmpty();
    }

    @Test
    void aTransactionCanAttachKeysToItsSessionAndGiveThemATimeToLive() {
        txn(a, List.of(new Compare.Absent("svc/a")), List.of(new Op.Put("svc/a", 0, bytes("x"), true, 0)), List.of());
        txn(a, List.of(), List.of(new Op.Put("lease", 0, bytes("x"), false, 2_000)), List.of());
        assertThat(d.table().key("svc/a").orElseThrow().owner()).isEqualTo(a.id);
        assertThat(d.table().nextDeadline()).isEqualTo(d.time() + 2_000);
        d.expire(a);
        assertThat(d.table().register("svc/a")).isEmpty();
    }

    @Test
    void theLimitsOnOpsAndBytesAreNamedAndRefusedBeforeAnythingChanges() {
        List<Op> many = new ArrayList<>();
        for (int i = 0; i <= Limits.MAX_TXN_OPS; i++) {
            many.add(new Op.Add("n", 1));
        }
        Reply.Failed ops = failed(txn(a, List.of(), many, List.of()), ErrorCode.INVALID_ARGUMENT);
        assertThat(ops.message()).contains("txn-ops").contains(String.valueOf(Limits.MAX_TXN_OPS));
        assertThat(d.table().register("n")).isEmpty();

        List<Op> big = new ArrayList<>();
        for (int i = 0; i * Limits.MAX_VALUE_BYTES <= Limits.MAX_TXN_BYTES; i++) {
            big.add(new Op.Put("k" + i, KeyDelete.ANY_VERSION, new byte[Limits.MAX_VALUE_BYTES], false, 0));
        }
        Reply.Failed bytes = failed(txn(a, List.of(), big, List.of()), ErrorCode.INVALID_ARGUMENT);
        assertThat(bytes.message()).contains("txn-bytes");
        assertThat(d.table().stats().registers()).isZero();
    }

    @Test
    void aValueCompareWithoutAValueIsRefusedAsAnArgumentNotAnException() {
        Reply.Failed refused = failed(
                txn(a, List.of(new Compare.Value("k", null)), List.of(put("k", "v")), List.of()),
                ErrorCode.INVALID_ARGUMENT);
        assertThat(refused.message()).contains("value must not be null");
        assertThat(d.table().register("k")).isEmpty();
    }

    @Test
    void eachOpAndCompareNeedsTheAccessItsSingleCommandNeeds() {
        LockTable table = new LockTable();
        table.apply(Command.Envelope.of(1, new Command.SetAccessRules(AccessControlTest.RULES)), EventSink.NONE);
        String bob = "session-bob-0123456789";
        String alice = "session-alice-0123456789";
        table.apply(new Command.Envelope(1, "bob", new Command.OpenSession(bob, "b", 10_000, 0)), EventSink.NONE);
        table.apply(new Command.Envelope(1, "alice", new Command.OpenSession(alice, "a", 10_000, 0)), EventSink.NONE);
        long[] seq = {0};
        java.util.function.BiFunction<String, Transaction, Reply> as =
                (who, t) -> table.apply(new Command.Envelope(1, who, t), EventSink.NONE);
        java.util.function.Function<String, Command.Invocation> inv =
                session -> new Command.Invocation(session, ++seq[0], 0);

        // bob reads everything and writes nothing.
        Reply read = as.apply(
                "bob",
                new Transaction(
                        inv.apply(bob), List.of(new Compare.Absent("b/x")), List.of(new Op.Get("a/x")), List.of()));
        assertThat(read).isInstanceOf(Reply.Transacted.class);
        Reply write =
                as.apply("bob", new Transaction(inv.apply(bob), List.of(), List.of(), List.of(new Op.Add("a/n", 1))));
        assertThat(failed(write, ErrorCode.PERMISSION_DENIED).message()).contains("a/n");
        // alice writes and reads a/* only.
        Reply outside = as.apply(
                "alice",
                new Transaction(
                        inv.apply(alice),
                        List.of(new Compare.Version("b/x", Transaction.Order.EQUAL, 0)),
                        List.of(new Op.Add("a/n", 1)),
                        List.of()));
        assertThat(failed(outside, ErrorCode.PERMISSION_DENIED).message()).contains("b/x");
        assertThat(table.register("a/n")).isEmpty();
        assertThat(failed(
                                table.apply(
                                        new Command.Envelope(1, "bob", new KeyDelete(inv.apply(bob), "a/x", -1)),
                                        EventSink.NONE),
                                ErrorCode.PERMISSION_DENIED)
                        .message())
                .contains("a/x");
    }
}
