package io.holdfast.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The mapping between the API's transaction and the model's, written out: every compare kind and
 * op kind of the API beside the model's record it must become, field for field. Both ways: the
 * tables must hold every kind of each side (their sealed types' permitted subclasses), each kind
 * of one side paired with exactly one kind of the other, so a kind added to either vocabulary
 * without its counterpart, or without a line here, fails.
 */
class TxnMappingTest {
    private static final byte[] BYTES = "v".getBytes(StandardCharsets.UTF_8);

    /** One kind of the API and what it maps to. */
    private record Pair<A, M>(A api, M model) {}

    private static final List<Pair<Txn.Compare, Transaction.Compare>> COMPARES = List.of(
            new Pair<>(
                    Txn.version("a", Txn.Order.EQUAL, 3),
                    new Transaction.Compare.Version("a", Transaction.Order.EQUAL, 3)),
            new Pair<>(
                    Txn.version("a", Txn.Order.NOT_EQUAL, 0),
                    new Transaction.Compare.Version("a", Transaction.Order.NOT_EQUAL, 0)),
            new Pair<>(
                    Txn.version("a", Txn.Order.LESS, 7),
                    new Transaction.Compare.Version("a", Transaction.Order.LESS, 7)),
            new Pair<>(
                    Txn.version("a", Txn.Order.GREATER, 9),
                    new Transaction.Compare.Version("a", Transaction.Order.GREATER, 9)),
            new Pair<>(Txn.value("b", BYTES), new Transaction.Compare.Value("b", BYTES)),
            new Pair<>(Txn.absent("c"), new Transaction.Compare.Absent("c")),
            new Pair<>(new Txn.Compare.Fence("locks/x", 42), new Transaction.Compare.Fence("locks/x", 42)),
            new Pair<>(Txn.holder("locks/y", "s1"), new Transaction.Compare.Holder("locks/y", "s1")),
            new Pair<>(Txn.sessionAlive("s2"), new Transaction.Compare.SessionAlive("s2")));

    private static final List<Pair<Txn.Op, Transaction.Op>> OPS = List.of(
            new Pair<>(Txn.put("k", BYTES), new Transaction.Op.Put("k", -1, BYTES, PutOptions.Lifetime.KEEP, 0)),
            new Pair<>(
                    Txn.put("k", BYTES, PutOptions.any().detach()),
                    new Transaction.Op.Put("k", -1, BYTES, PutOptions.Lifetime.DETACH, 0)),
            new Pair<>(
                    Txn.put("k", BYTES, PutOptions.any().ttl(Duration.ofSeconds(5))),
                    new Transaction.Op.Put("k", -1, BYTES, PutOptions.Lifetime.DETACH, 5_000)),
            new Pair<>(
                    Txn.put("k", BYTES, PutOptions.ifVersion(4).attach().ttl(Duration.ofSeconds(90))),
                    new Transaction.Op.Put("k", 4, BYTES, true, 90_000)),
            new Pair<>(Txn.delete("k"), new Transaction.Op.Delete("k", -1)),
            new Pair<>(Txn.delete("k", 5), new Transaction.Op.Delete("k", 5)),
            new Pair<>(Txn.add("n", -2), new Transaction.Op.Add("n", -2)),
            new Pair<>(Txn.get("g"), new Transaction.Op.Get("g")));

    @Test
    void everyCompareKindBecomesItsCounterpartFieldForField() {
        for (Pair<Txn.Compare, Transaction.Compare> p : COMPARES) {
            assertThat(TxnMapping.compare(p.api())).as("%s", p.api()).isEqualTo(p.model());
        }
        assertPairsEveryKindOfBothSides(COMPARES, Txn.Compare.class, Transaction.Compare.class);
    }

    @Test
    void everyOpKindBecomesItsCounterpartFieldForField() {
        for (Pair<Txn.Op, Transaction.Op> p : OPS) {
            assertThat(TxnMapping.op(p.api())).as("%s", p.api()).isEqualTo(p.model());
        }
        assertPairsEveryKindOfBothSides(OPS, Txn.Op.class, Transaction.Op.class);
    }

    @Test
    void everyOrderBecomesTheOrderOfItsNameAndEveryOrderOfTheModelIsOne() {
        Set<Transaction.Order> reached = EnumSet.noneOf(Transaction.Order.class);
        for (Txn.Order o : Txn.Order.values()) {
            Transaction.Order m = TxnMapping.order(o);
            assertThat(m.name()).isEqualTo(o.name());
            reached.add(m);
        }
        assertThat(reached).containsExactlyInAnyOrder(Transaction.Order.values());
    }

    @Test
    void aTransactionKeepsItsInvocationAndTheOrderOfItsComparesAndBranches() {
        Command.Invocation inv = new Command.Invocation("s", 7, 3);
        Txn txn = new Txn(
                COMPARES.stream().map(Pair::api).toList(),
                OPS.stream().map(Pair::api).toList(),
                List.of(Txn.get("x"), Txn.add("y", 1)));
        assertThat(TxnMapping.command(inv, txn))
                .isEqualTo(new Transaction(
                        inv,
                        COMPARES.stream().map(Pair::model).toList(),
                        OPS.stream().map(Pair::model).toList(),
                        List.of(new Transaction.Op.Get("x"), new Transaction.Op.Add("y", 1))));
    }

    @Test
    void aResultBecomesTheApisFieldForField() {
        Reply.Transacted t =
                new Reply.Transacted(false, List.of(new Reply.OpResult(3, BYTES, 0), new Reply.OpResult(2, null, -9)));
        assertThat(TxnMapping.result(t))
                .isEqualTo(new TxnResult(
                        false, List.of(new TxnResult.OpResult(3, BYTES, 0), new TxnResult.OpResult(2, null, -9))));
        assertThat(TxnMapping.result(new Reply.Transacted(true, List.of()))).isEqualTo(new TxnResult(true, List.of()));
        assertThat(components(TxnResult.class)).isEqualTo(components(Reply.Transacted.class));
        assertThat(components(TxnResult.OpResult.class)).isEqualTo(components(Reply.OpResult.class));
    }

    /**
     * The pairs name every permitted kind of {@code api} and of {@code model}, and pair each kind of
     * one side with exactly one kind of the other.
     */
    private static <A, M> void assertPairsEveryKindOfBothSides(List<Pair<A, M>> pairs, Class<A> api, Class<M> model) {
        Map<Class<?>, Class<?>> toModel = new HashMap<>();
        Map<Class<?>, Class<?>> toApi = new HashMap<>();
        for (Pair<A, M> p : pairs) {
            Class<?> a = p.api().getClass();
            Class<?> m = p.model().getClass();
            assertThat(toModel.getOrDefault(a, m))
                    .as("%s pairs with one kind", a)
                    .isEqualTo(m);
            assertThat(toApi.getOrDefault(m, a)).as("%s pairs with one kind", m).isEqualTo(a);
            toModel.put(a, m);
            toApi.put(m, a);
        }
        assertThat(toModel.keySet())
                .as("the API's kinds of %s in this test's table", api.getSimpleName())
                .isEqualTo(new HashSet<>(Arrays.asList(api.getPermittedSubclasses())));
        assertThat(toApi.keySet())
                .as("the model's kinds of %s in this test's table", model.getSimpleName())
                .isEqualTo(new HashSet<>(Arrays.asList(model.getPermittedSubclasses())));
    }

    private static List<String> components(Class<?> record) {
        return Arrays.stream(record.getRecordComponents())
                .map(RecordComponent::getName)
                .toList();
    }
}
