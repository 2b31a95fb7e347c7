package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ConflictException;
import io.holdfast.Counters;
import io.holdfast.InvalidArgumentException;
import io.holdfast.PutOptions;
import io.holdfast.QuotaExceededException;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link KeyPlay} and {@link KeyRules} on keys in memory: the rules every store provider plays. */
class KeyPlayTest {
    /** A key as a store in memory keeps it: attached to session 7 or to none. */
    record Mem(String key, long version, byte[] value, long attachment) implements KeyPlay.Stored {}

    private static final long OWN = 7;
    private static final long OTHER = 9;

    /** Attaches to {@link #OWN}; an add keeps the key's attachment. */
    private static final KeyPlay.Writes<Mem> WRITES = new KeyPlay.Writes<>() {
        @Override
        public Mem put(Txn.Op.Put put, long version, Mem current) {
            return new Mem(put.key(), version, put.value(), put.options().attached() ? OWN : 0);
        }

        @Override
        public Mem counted(String key, long version, byte[] value, Mem current) {
            return new Mem(key, version, value, current == null ? 0 : current.attachment());
        }
    };

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static KeyPlay<Mem> play(Map<String, Mem> read, long attached) {
        return new KeyPlay<>(read, WRITES, new KeyPlay.Attached(OWN, attached, "s-1", 3));
    }

    private static Map<String, Mem> read(Mem... keys) {
        Map<String, Mem> read = new HashMap<>();
        for (Mem k : keys) {
            read.put(k.key(), k);
        }
        return read;
    }

    @Test
    void theComparesChooseTheBranchAndEachOpAnswersItsResult() {
        Map<String, Mem> read = read(new Mem("a", 2, utf8("x"), 0));
        read.put("b", null);
        Txn txn = Txn.when(Txn.version("a", Txn.Order.GREATER, 1), Txn.value("a", utf8("x")), Txn.absent("b"))
                .then(Txn.add("b", 4), Txn.put("a", utf8("y")), Txn.get("a"), Txn.delete("a"))
                .otherwise(Txn.get("a"));
        KeyPlay<Mem> play = play(read, 0);
        TxnResult r = play.run(txn, c -> false, true);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.results()).extracting(TxnResult.OpResult::version).containsExactly(1L, 3L, 3L, 3L);
        assertThat(r.results().get(0).counter()).isEqualTo(4);
        assertThat(r.results().get(2).value()).isEqualTo(utf8("y"));
        assertThat(play.written()).containsOnlyKeys("b", "a").containsEntry("a", null);
        assertThat(play.written().get("b").version()).isEqualTo(1);

        KeyPlay<Mem> fenced = play(read, 0);
        TxnResult other = fenced.run(
                Txn.when(Txn.absent("b"), new Txn.Compare.Fence("lock", 5))
                        .then(Txn.delete("a"))
                        .otherwise(Txn.get("a")),
                c -> false,
                true);
        assertThat(other.succeeded()).as("a fence that does not hold").isFalse();
        assertThat(other.results().get(0).value()).isEqualTo(utf8("x"));
        assertThat(fenced.written()).isEmpty();
    }

    @Test
    void aRefusedOpIsNamedByBranchAndPlaceAndKeepsItsType() {
        Map<String, Mem> read = read(new Mem("a", 2, utf8("text"), 0), new Mem("n", 1, Counters.encode(1), 0));
        assertThatThrownBy(() -> play(read, 0)
                        .run(
                                Txn.when()
                                        .then(
                                                Txn.put("z", utf8("z")),
                                                Txn.put("a", utf8("v"), PutOptions.ifVersion(1))),
                                c -> true,
                                true))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(2))
                .hasMessage("then op 2: a is at version 2, not 1");
        assertThatThrownBy(() ->
                        play(read, 0).run(Txn.when(Txn.absent("a")).otherwise(Txn.add("a", 1)), c -> true, true))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("else op 1: " + Counters.refusal("a", utf8("text"), 1))
                .hasMessage("else op 1: a holds 4 bytes, not a counter (exactly 8 bytes)");
        assertThatThrownBy(() -> play(read, 0).run(Txn.when().then(Txn.add("n", Long.MAX_VALUE)), c -> true, false))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage(Counters.refusal("n", Counters.encode(1), Long.MAX_VALUE));
    }

    @Test
    void aPutThatNamesNoLifetimeKeepsTheKeysAttachmentAndCountsNothing() {
        Map<String, Mem> read = read(new Mem("mine", 1, utf8("m"), OWN), new Mem("theirs", 1, utf8("t"), OTHER));
        read.put("new", null);
        KeyPlay<Mem> play = play(read, 10_000);
        play.run(
                Txn.when()
                        .then(
                                Txn.put("mine", utf8("m2")),
                                Txn.put("theirs", utf8("t2"), PutOptions.ifVersion(1)),
                                Txn.put("new", utf8("n"))),
                c -> true,
                true);
        assertThat(play.written().get("mine").attachment()).isEqualTo(OWN);
        assertThat(play.written().get("theirs").attachment())
                .as("another session's key stays its own")
                .isEqualTo(OTHER);
        assertThat(play.written().get("new").attachment()).as("a new key").isZero();
        assertThat(play.attachedChanges()).isEmpty();
    }

    @Test
    void theLimitOfKeysPerSessionIsCheckedOpByOpAndTheCountsFollow() {
        Map<String, Mem> read = read(
                new Mem("mine", 1, utf8("m"), OWN),
                new Mem("theirs", 1, utf8("t"), OTHER),
                new Mem("n", 1, Counters.encode(0), OWN));
        read.put("new", null);
        PutOptions attach = PutOptions.any().attach();
        assertThatThrownBy(() -> play(read, 3)
                        .run(Txn.when().then(Txn.put("new", utf8("x"), attach), Txn.delete("mine")), c -> true, true))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessage("then op 1: session s-1 owns 3 keys; the limit keys-per-session is 3");

        KeyPlay<Mem> roomFirst = play(read, 2);
        roomFirst.run(
                Txn.when()
                        .then(
                                Txn.delete("mine"),
                                Txn.put("new", utf8("x"), attach),
                                Txn.put("mine", utf8("again"), attach),
                                Txn.put("n", utf8("detached"), PutOptions.any().detach()),
                                Txn.get("new"),
                                Txn.put("theirs", utf8("mine now"), attach)),
                c -> true,
                true);
        assertThat(roomFirst.attachedChanges())
                .as("own: -1 +1 +1 -1 +1; the other session's: -1")
                .isEqualTo(Map.of(OWN, 1L, OTHER, -1L));

        KeyPlay<Mem> again = play(read, 3);
        again.run(Txn.when().then(Txn.put("mine", utf8("m2"), attach), Txn.add("n", 2)), c -> true, true);
        assertThat(again.attachedChanges())
                .as("a key attached written again, and an add, count nothing")
                .isEmpty();
    }

    @Test
    void theCountOfAttachedKeysIsReadOnceAndOnlyWhenAnOpAttachesAKey() {
        Map<String, Mem> read = read(new Mem("mine", 1, utf8("m"), OWN));
        read.put("x", null);
        read.put("y", null);
        PutOptions attach = PutOptions.any().attach();
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.Supplier<KeyPlay<Mem>> counting = () -> new KeyPlay<>(
                read,
                WRITES,
                new KeyPlay.Attached(
                        OWN,
                        () -> {
                            reads.incrementAndGet();
                            return 1;
                        },
                        "s-1",
                        3));

        counting.get()
                .run(Txn.when().then(Txn.put("mine", utf8("m2"), attach), Txn.put("x", utf8("x"))), c -> true, true);
        assertThat(reads)
                .as("a key attached already, and a put that attaches none")
                .hasValue(0);

        KeyPlay<Mem> two = counting.get();
        two.run(Txn.when().then(Txn.put("x", utf8("x"), attach), Txn.put("y", utf8("y"), attach)), c -> true, true);
        assertThat(reads).as("two keys attached: the count read once").hasValue(1);
        assertThat(two.attachedChanges()).isEqualTo(Map.of(OWN, 2L));
    }
}
