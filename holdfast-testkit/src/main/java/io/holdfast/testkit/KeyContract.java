package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.Capability;
import io.holdfast.ConflictException;
import io.holdfast.Counters;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchEvent.Cause;
import io.holdfast.WatchEvent.Type;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Capability#KEYS} and the capabilities beside it ({@link Capability#SESSION_KEYS}, {@link
 * Capability#KEY_TTL}, {@link Capability#TRANSACTIONS}): versions, deletes, listing in byte order,
 * counters, transactions, and the limits, each refused before anything changes; keys that end with
 * their session or their time are {@link KeyLifetimeContract}.
 */
abstract class KeyContract extends ContractSupport {
    KeyContract(LockProviderContract suite) {
        super(suite);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Keys keys() {
        return open().keys();
    }

    @Test
    void aKeyGrowsOneVersionPerWriteAndAConditionalWriteThatFailsWritesNothing() {
        assumeCapability(Capability.KEYS);
        Keys keys = keys();
        String k = name("config");
        assertThat(keys.get(k)).as("a key never written").isEmpty();
        assertThat(keys.put(k, bytes("one")).version()).isEqualTo(1);
        KeyEntry two = keys.put(k, bytes("two"));
        assertThat(two).isEqualTo(new KeyEntry(k, 2, bytes("two"), null));
        assertThat(keys().get(k)).as("read by another client").contains(two);

        assertThatThrownBy(() -> keys.put(k, bytes("late"), PutOptions.ifAbsent()))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(2))
                .as("the server's words, from every provider")
                .hasMessage(k + " is at version 2, not 0");
        assertThatThrownBy(() -> keys.put(k, bytes("future"), PutOptions.ifVersion(7)))
                .isInstanceOf(ConflictException.class);
        assertThat(keys.get(k)).as("after two refused writes").contains(two);
        assertThat(keys.put(k, bytes("three"), PutOptions.ifVersion(2)).version())
                .isEqualTo(3);
        assertThat(keys.put(name("fresh"), bytes("new"), PutOptions.ifAbsent()).version())
                .isEqualTo(1);
    }

    @Test
    void aDeleteComparesTheVersionAndAKeyWrittenAgainStartsAtOne() {
        assumeCapability(Capability.KEYS);
        Keys keys = keys();
        String k = name("gone");
        assertThat(keys.delete(k)).as("deleting an absent key").isZero();
        keys.put(k, bytes("a"));
        keys.put(k, bytes("b"));
        assertThatThrownBy(() -> keys.delete(k, 1))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(2))
                .hasMessage(k + " is at version 2, not 1");
        assertThat(keys.get(k)).as("after a refused delete").isPresent();
        assertThat(keys.delete(k, 2)).as("the version the key had").isEqualTo(2);
        assertThat(keys.get(k)).isEmpty();
        assertThatThrownBy(() -> keys.delete(k, 2)).isInstanceOf(ConflictException.class);
        assertThat(keys.put(k, bytes("again")).version())
                .as("written after a delete")
                .isEqualTo(1);
        assertThat(keys.delete(k)).isEqualTo(1);
    }

    @Test
    void aListIsInByteOrderOfUtf8AndPagesFollowNext() {
        assumeCapability(Capability.KEYS);
        Keys keys = keys();
        String dir = name("list/");
        // UTF-16 order puts U+1F600 (a surrogate pair) before U+FF5E; UTF-8 byte order after it.
        List<String> expected = List.of(dir + "a", dir + "b", dir + "z", dir + "é", dir + "～", dir + "\uD83D\uDE00");
        List<String> shuffled = new ArrayList<>(expected);
        java.util.Collections.shuffle(shuffled);
        for (String k : shuffled) {
            keys.put(k, bytes(k));
        }
        keys.put(name("lisu"), bytes("beside the prefix"));
        KeyListing all = keys.list(dir);
        assertThat(all.entries()).extracting(KeyEntry::key).containsExactlyElementsOf(expected);
        assertThat(all.more()).isFalse();
        assertThat(all.next()).isNull();

        List<String> paged = new ArrayList<>();
        String after = "";
        int pages = 0;
        while (after != null) {
            KeyListing page = keys.list(dir, after, 4);
            assertThat(page.entries()).hasSizeLessThanOrEqualTo(4);
            page.entries().forEach(e -> paged.add(e.key()));
            after = page.next();
            pages++;
        }
        assertThat(paged).as("keys read in pages of 4").containsExactlyElementsOf(expected);
        assertThat(pages).isEqualTo(2);

        assertThatThrownBy(() -> keys.list(dir, "", 0)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> keys.list(dir, "", Keys.MAX_PAGE + 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(String.valueOf(Keys.MAX_PAGE));
    }

    /**
     * The counter rule has one home, {@link Counters}: the server's table and every store provider
     * refuse what is no counter, and an overflow, with its code and in its words.
     */
    @Test
    void aCounterStartsAtZeroAndRefusesWhatIsNoCounterAndOverflow() {
        assumeCapability(Capability.KEYS);
        Keys keys = keys();
        String c = name("hits");
        assertThat(keys.add(c, 5)).as("an absent key counts from 0").isEqualTo(5);
        assertThat(keys().add(c, -2)).isEqualTo(3);
        KeyEntry now = keys.get(c).orElseThrow();
        assertThat(now.counter()).isEqualTo(3);
        assertThat(now.version()).isEqualTo(2);

        String text = name("text");
        keys.put(text, bytes("seven"));
        assertThatThrownBy(() -> keys.add(text, 1))
                .isInstanceOfSatisfying(
                        InvalidArgumentException.class,
                        e -> assertThat(e.code()).isEqualTo(Counters.REFUSED))
                .hasMessage(Counters.refusal(text, bytes("seven"), 1))
                .hasMessage(text + " holds 5 bytes, not a counter (exactly 8 bytes)");
        assertThat(keys.get(text).orElseThrow().text()).isEqualTo("seven");

        String big = name("big");
        keys.put(big, Counters.encode(Long.MAX_VALUE));
        assertThatThrownBy(() -> keys.add(big, 1))
                .isInstanceOfSatisfying(
                        InvalidArgumentException.class,
                        e -> assertThat(e.code()).isEqualTo(Counters.REFUSED))
                .hasMessage(Counters.refusal(big, Counters.encode(Long.MAX_VALUE), 1));
        keys.put(big, Counters.encode(Long.MIN_VALUE));
        assertThatThrownBy(() -> keys.add(big, -1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage(big + " is " + Long.MIN_VALUE + "; adding -1 would overflow a 64-bit counter");
        assertThat(keys.get(big).orElseThrow().counter()).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void aWatchOfKeysStartsWithTheStateThenTellsEachWriteAndDelete() throws Exception {
        assumeCapability(Capability.KEYS);
        Keys keys = keys();
        String dir = name("watched/");
        keys.put(dir + "one", bytes("1"));
        WatchContract.Recorded seen = new WatchContract.Recorded();
        try (Watch ignored = observer().keys().watch(dir, seen)) {
            WatchEvent state = seen.next();
            assertThat(state.type()).isEqualTo(Type.STATE);
            assertThat(state.keys()).containsExactly(new KeyEntry(dir + "one", 1, bytes("1"), null));
            keys.put(dir + "two", bytes("2"));
            WatchEvent set = seen.next();
            assertThat(set.type()).isEqualTo(Type.REGISTER_SET);
            assertThat(set.name()).isEqualTo(dir + "two");
            assertThat(set.version()).isEqualTo(1);
            assertThat(set.value()).isEqualTo(bytes("2"));
            keys.put(name("elsewhere"), bytes("not watched"));
            keys.delete(dir + "one");
            WatchEvent deleted = seen.next();
            assertThat(deleted.type()).isEqualTo(Type.REGISTER_DELETED);
            assertThat(deleted.name()).isEqualTo(dir + "one");
            assertThat(deleted.version()).isEqualTo(1);
            // a store's own watch may know a plain key can only go by a client's delete (null);
            // one that polls says UNKNOWN
            assertThat(deleted.cause())
                    .isIn(has(Capability.WATCH) ? Arrays.asList((Cause) null) : Arrays.asList(null, Cause.UNKNOWN));
        }
    }

    @Test
    void aTransactionRunsOneBranchAndAnswersEachOp() {
        assumeCapability(Capability.KEYS, Capability.TRANSACTIONS);
        Keys keys = keys();
        String a = name("a");
        String n = name("n");
        Txn create = Txn.when(Txn.absent(a))
                .then(Txn.put(a, bytes("first")), Txn.add(n, 2))
                .otherwise(Txn.get(a));
        TxnResult first = keys.commit(create);
        assertThat(first.succeeded()).isTrue();
        assertThat(first.results())
                .containsExactly(new TxnResult.OpResult(1, null, 0), new TxnResult.OpResult(1, null, 2));

        TxnResult second = keys.commit(create);
        assertThat(second.succeeded())
                .as("the key exists now: the other branch")
                .isFalse();
        assertThat(second.results()).containsExactly(new TxnResult.OpResult(1, bytes("first"), 0));

        TxnResult versioned = keys.commit(Txn.when(Txn.version(a, Txn.Order.EQUAL, 1), Txn.value(a, bytes("first")))
                .then(Txn.delete(a, 1), Txn.get(n)));
        assertThat(versioned.succeeded()).isTrue();
        assertThat(versioned.results().get(0).version())
                .as("the deleted key's version")
                .isEqualTo(1);
        assertThat(versioned.results().get(1).value()).isEqualTo(Counters.encode(2));
        assertThat(keys.get(a)).isEmpty();
    }

    @Test
    void aTransactionWithARefusedOpChangesNothing() {
        assumeCapability(Capability.KEYS, Capability.TRANSACTIONS);
        Keys keys = keys();
        String a = name("a");
        String b = name("b");
        keys.put(b, bytes("b1"));
        assertThatThrownBy(() -> keys.commit(
                        Txn.when().then(Txn.put(a, bytes("new")), Txn.put(b, bytes("stale"), PutOptions.ifVersion(5)))))
                .isInstanceOf(ConflictException.class)
                .hasMessageContaining("then op 2");
        assertThat(keys.get(a)).as("the first op, undone").isEmpty();
        assertThat(keys.get(b).orElseThrow().text()).isEqualTo("b1");
    }

    @Test
    void aFencedTransactionRunsOnlyWhileItsLeaseIsCurrent() {
        assumeCapability(Capability.KEYS, Capability.TRANSACTIONS);
        LockClient leader = open();
        String from = name("from");
        String to = name("to");
        leader.keys().put(from, Counters.encode(10));
        Lease lease = take(leader.lock(name("leader")));
        Txn move = Txn.when(Txn.fence(lease)).then(Txn.add(from, -3), Txn.add(to, 3));
        TxnResult moved = leader.keys().commit(move);
        assertThat(moved.succeeded()).isTrue();
        assertThat(moved.results()).extracting(TxnResult.OpResult::counter).containsExactly(7L, 3L);
        lease.release();
        TxnResult late = leader.keys().commit(move);
        assertThat(late.succeeded())
                .as("the fence after the lease was released")
                .isFalse();
        assertThat(late.results()).isEmpty();
        assertThat(leader.keys().get(from).orElseThrow().counter()).isEqualTo(7);
        assertThat(leader.keys().get(to).orElseThrow().counter()).isEqualTo(3);
    }

    @Test
    void limitsAreRefusedBeforeAnythingChanges() {
        assumeCapability(Capability.KEYS);
        Keys keys = keys();
        String k = name("big");
        assertThatThrownBy(() -> keys.put(k, new byte[Keys.MAX_VALUE_BYTES + 1]))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(String.valueOf(Keys.MAX_VALUE_BYTES));
        assertThat(keys.get(k)).isEmpty();
        Txn.Op[] ops = new Txn.Op[Keys.MAX_TXN_OPS + 1];
        Arrays.fill(ops, Txn.add(k, 1));
        assertThatThrownBy(() -> Txn.when().then(ops))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(String.valueOf(Keys.MAX_TXN_OPS));
        if (has(Capability.TRANSACTIONS)) {
            byte[] value = new byte[Keys.MAX_VALUE_BYTES];
            Txn tooBig = Txn.when()
                    .then(
                            Txn.put(k, value),
                            Txn.put(k, value),
                            Txn.put(k, value),
                            Txn.put(k, value),
                            Txn.put(k, value));
            assertThatThrownBy(() -> keys.commit(tooBig))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining(String.valueOf(Keys.MAX_TXN_BYTES));
            assertThat(keys.get(k)).isEmpty();
        }
    }

    @Test
    void whatTheProviderLacksIsRefusedByName() {
        LockClient client = open();
        if (!has(Capability.KEYS)) {
            assertThatThrownBy(client::keys).isInstanceOf(UnsupportedFeatureException.class);
            return;
        }
        Keys keys = client.keys();
        String k = name("k");
        if (!has(Capability.SESSION_KEYS)) {
            assertThatThrownBy(() -> keys.put(k, bytes("x"), PutOptions.any().attach()))
                    .isInstanceOf(UnsupportedFeatureException.class);
        }
        if (!has(Capability.KEY_TTL)) {
            assertThatThrownBy(() -> keys.put(k, bytes("x"), PutOptions.any().ttl(Duration.ofSeconds(5))))
                    .isInstanceOf(UnsupportedFeatureException.class);
        }
        if (!has(Capability.TRANSACTIONS)) {
            assertThatThrownBy(() -> keys.commit(Txn.when().then(Txn.put(k, bytes("x")))))
                    .isInstanceOf(UnsupportedFeatureException.class);
        }
        if (!has(Capability.SHARED_LEASES)) {
            LockClient lease = open();
            assertThatThrownBy(() -> keys.put(k, bytes("x"), PutOptions.any().lease(lease.sessionId())))
                    .isInstanceOf(UnsupportedFeatureException.class)
                    .hasMessageContaining("lease");
        }
        assertThat(keys.get(k)).as("nothing written by a refused call").isEmpty();
    }
}
