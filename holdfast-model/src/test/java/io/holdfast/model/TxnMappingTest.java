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

    private static final List<Pair<Txn.Compare, Command.Compare>> COMPARES = List.of(
            new Pair<>(Txn.version("a", Txn.Order.EQUAL, 3), new Command.Compare.Version("a", Command.Order.EQUAL, 3)),
            new Pair<>(
                    Txn.version("a", Txn.Order.NOT_EQUAL, 0),
                    new Command.Compare.Version("a", Command.Order.NOT_EQUAL, 0)),
            new Pair<>(Txn.version("a", Txn.Order.LESS, 7), new Command.Compare.Version("a", Command.Order.LESS, 7)),
            new Pair<>(
                    Txn.version("a", Txn.Order.GREATER, 9), new Command.Compare.Version("a", Command.Order.GREATER, 9)),
            new Pair<>(Txn.value("b", BYTES), new Command.Compare.Value("b", BYTES)),
            new Pair<>(Txn.absent("c"), new Command.Compare.Absent("c")),
            new Pair<>(new Txn.Compare.Fence("locks/x", 42), new Command.Compare.Fence("locks/x", 42)),
            new Pair<>(Txn.holder("locks/y", "s1"), new Command.Compare.Holder("locks/y", "s1")),
            new Pair<>(Txn.sessionAlive("s2"), new Command.Compare.SessionAlive("s2")));

    private static final List<Pair<Txn.Op, Command.Op>> OPS = List.of(
            new Pair<>(Txn.put("k", BYTES), new Command.Op.Put("k", -1, BYTES, false, 0)),
            new Pair<>(
                    Txn.put("k", BYTES, PutOptions.ifVersion(4).attach().ttl(Duration.ofSeconds(90))),
                    new Command.Op.Put("k", 4, BYTES, true, 90_000)),
            new Pair<>(Txn.delete("k"), new Command.Op.Delete("k", -1)),
            new Pair<>(Txn.delete("k", 5), new Command.Op.Delete("k", 5)),
            new Pair<>(Txn.add("n", -2), new Command.Op.Add("n", -2)),
            new Pair<>(Txn.get("g"), new Command.Op.Get("g")));

    @Test
    void everyCompareKindBecomesItsCounterpartFieldForField() {
        for (Pair<Txn.Compare, Command.Compare> p : COMPARES) {
            assertThat(TxnMapping.compare(p.api())).as("%s", p.api()).isEqualTo(p.model());
        }
        assertPairsEveryKindOfBothSides(COMPARES, Txn.Compare.class, Command.Compare.class);
    }

    @Test
    void everyOpKindBecomesItsCounterpartFieldForField() {
        for (Pair<Txn.Op, Command.Op> p : OPS) {
            assertThat(TxnMapping.op(p.api())).as("%s", p.api()).isEqualTo(p.model());
        }
        assertPairsEveryKindOfBothSides(OPS, Txn.Op.class, Command.Op.class);
    }

    @Test
    void everyOrderBecomesTheOrderOfItsNameAndEveryOrderOfTheModelIsOne() {
        Set<Command.Order> reached = EnumSet.noneOf(Command.Order.class);
        for (Txn.Order o : Txn.Order.values()) {
            Command.Order m = TxnMapping.order(o);
            assertThat(m.name()).isEqualTo(o.name());
            reached.add(m);
        }
        assertThat(reached).containsExactlyInAnyOrder(Command.Order.values());
    }

    @Test
    void aTransactionKeepsItsInvocationAndTheOrderOfItsComparesAndBranches() {
        Command.Invocation inv = new Command.Invocation("s", 7, 3);
        Txn txn = new Txn(
                COMPARES.stream().map(Pair::api).toList(),
                OPS.stream().map(Pair::api).toList(),
                List.of(Txn.get("x"), Txn.add("y", 1)));
        assertThat(TxnMapping.command(inv, txn))
                .isEqualTo(new Command.Transaction(
                        inv,
                        COMPARES.stream().map(Pair::model).toList(),
                        OPS.stream().map(Pair::model).toList(),
                        List.of(new Command.Op.Get("x"), new Command.Op.Add("y", 1))));
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
