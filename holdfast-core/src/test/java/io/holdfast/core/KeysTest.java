package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.PutOptions;
import io.holdfast.WatchEvent;
import io.holdfast.WatchEvent.Cause;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keys through the table: deletes, listing by prefix, keys attached to a session or with a time to
 * live, their changes, and the limits. Counters and transactions are {@link KeyTransactionsTest}.
 */
class KeysTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final List<WatchEvent> changes = new ArrayList<>();

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Applies a command at the driver's time; {@link #changes} holds the changes it made. */
    private Reply apply(Command c) {
        changes.clear();
        return d.table().apply(Command.Envelope.of(d.time(), c), EventSink.NONE, changes::add);
    }

    private Reply put(Client c, String key, long expected, String value, boolean attach, long ttlMillis) {
        return apply(new RegisterSet(c.next(), key, expected, bytes(value), null, 0, true, attach, ttlMillis));
    }

    private Reply delete(Client c, String key, long expected) {
        return apply(new KeyDelete(c.next(), key, expected));
    }

    private List<String> kinds() {
        return changes.stream()
                .map(e -> e.type() + " " + e.name() + (e.cause() == null ? "" : " " + e.cause()))
                .toList();
    }

    @Test
    void aDeleteWithTheExpectedVersionDeletesAndAWrongOneConflicts() {
        put(a, "k", 0, "one", false, 0);
        put(a, "k", 1, "two", false, 0);

        Reply.Failed f = failed(delete(b, "k", 1), ErrorCode.CONFLICT);
        assertThat(f.message()).isEqualTo("k is at version 2, not 1");
        assertThat(f.currentVersion()).isEqualTo(2);
        assertThat(d.table().register("k")).isPresent();
        assertThat(changes).isEmpty();

        assertThat(delete(b, "k", 2)).isEqualTo(new Reply.Ok(2));
        assertThat(d.table().register("k")).isEmpty();
        assertThat(changes).containsExactly(WatchEvent.registerDeleted("k", b.id, 2, null));
        assertThat(d.table().stats().registers()).isZero();
        assertThat(d.table().stats().registerBytes()).isZero();

        assertThat(delete(b, "k", KeyDelete.ANY_VERSION))
                .as("absent: nothing to delete")
                .isEqualTo(new Reply.Ok(0));
        assertThat(changes).isEmpty();
        assertThat(put(a, "k", 0, "again", false, 0))
                .as("a deleted key starts again at version 1")
                .isEqualTo(new Reply.Written(1));
        assertThat(delete(a, "k", KeyDelete.ANY_VERSION)).isEqualTo(new Reply.Ok(1));
        failed(delete(a, "k", -2), ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void keysAreListedByPrefixInByteOrderPageByPage() {
        // U+1F600 is after U+FFFD in UTF-8 (and code points), before it in UTF-16.
        for (String k : List.of("svc/b", "svc/a", "svc/\uD83D\uDE00", "svc/\uFFFD", "svd", "sv", "other")) {
            put(a, k, 0, k, false, 0);
        }
        ChangePosition at = new ChangePosition(42, 0);
        KeyPage first = d.table().keys("svc/", null, 2, k -> true, at);
        assertThat(first.keys()).extracting(KeyPage.Entry::key).containsExactly("svc/a", "svc/b");
        assertThat(first.more()).isTrue();
        assertThat(first.position()).isEqualTo(at);
        KeyPage second = d.table().keys("svc/", "svc/b", 2, k -> true, at);
        assertThat(second.keys()).extracting(KeyPage.Entry::key).containsExactly("svc/\uFFFD", "svc/\uD83D\uDE00");
        assertThat(second.more()).isFalse();
        assertThat(second.keys().get(0).value()).isEqualTo(bytes("svc/\uFFFD"));
        assertThat(second.keys().get(0).version()).isEqualTo(1);

        assertThat(d.table().keys("", null, 100, k -> !k.startsWith("svc/"), at).keys())
                .extracting(KeyPage.Entry::key)
                .containsExactly("other", "sv", "svd");
        assertThat(d.table().keys("svc/", "a", 1, k -> true, at).keys())
                .as("a start before the prefix starts at the prefix")
                .extracting(KeyPage.Entry::key)
                .containsExactly("svc/a");
        assertThat(d.table().keys("svc/", "svd", 10, k -> true, at).keys()).isEmpty();
    }

    @Test
    void aPageEndsAtItsBytesSoThatItFitsAFrameAndTheNextPagesGoOn() {
        byte[] big = new byte[io.holdfast.Keys.MAX_VALUE_BYTES];
        int count = 40; // 2.5 MiB of values
        for (int i = 0; i < count; i++) {
            apply(new RegisterSet(a.next(), "big/" + (100 + i), 0, big, null, 0, true, false, 0));
        }
        ChangePosition at = new ChangePosition(42, 0);
        List<String> listed = new ArrayList<>();
        String after = null;
        int pages = 0;
        while (true) {
            KeyPage page = d.table().keys("big/", after, Limits.MAX_KEY_PAGE, k -> true, at);
            pages++;
            assertThat(page.keys()).as("a page holds a key").isNotEmpty();
            assertThat(page.keys().stream().mapToLong(KeyPage.Entry::size).sum())
                    .as("page %d fits %d bytes", pages, Limits.MAX_KEY_PAGE_BYTES)
                    .isLessThanOrEqualTo(Limits.MAX_KEY_PAGE_BYTES);
            page.keys().forEach(e -> listed.add(e.key()));
            if (!page.more()) {
                break;
            }
            assertThat(page.keys().stream().mapToLong(KeyPage.Entry::size).sum() + big.length + 8)
                    .as("the page holds as many keys as fit")
                    .isGreaterThan(Limits.MAX_KEY_PAGE_BYTES);
            after = page.keys().get(page.keys().size() - 1).key();
        }
        assertThat(listed).hasSize(count).isSorted();
        assertThat(pages).isEqualTo(3); // 15 keys of 65,543 bytes fit in 1 MiB, 16 do not
        assertThat(d.table().keys("big/", null, 3, k -> true, at).keys())
                .as("the count still ends a page first")
                .hasSize(3);
    }

    @Test
    void aSessionsKeysGoInTheSameStepAsItsLocksWithTheCauseInTheChanges() {
        long t = token(a.acquire("jobs/1").apply());
        put(a, "svc/a", 0, "10.0.0.1", true, 0);
        put(a, "cfg", 0, "kept", false, 0);
        put(b, "svc/b", 0, "10.0.0.2", true, 0);
        assertThat(d.table().key("svc/a").orElseThrow().owner()).isEqualTo(a.id);

        apply(new Command.ExpireSession(a.id));

        assertThat(changes)
                .containsExactly(
                        WatchEvent.registerDeleted("svc/a", a.id, 1, Cause.SESSION_EXPIRED),
                        WatchEvent.released("jobs/1", a.id, t, io.holdfast.LockMode.EXCLUSIVE, Cause.SESSION_EXPIRED));
        assertThat(d.table().register("svc/a")).isEmpty();
        assertThat(d.table().register("cfg"))
                .as("a key that is not attached stays")
                .isPresent();
        assertThat(d.table().register("svc/b"))
                .as("another session's key stays")
                .isPresent();

        assertThat(apply(new Command.CloseSession(b.next()))).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(kinds()).containsExactly("REGISTER_DELETED svc/b SESSION_CLOSED");
    }

    @Test
    void anOperatorsEndOfASessionDeletesItsKeysAsAnExpiry() {
        put(a, "svc/a", 0, "x", true, 0);
        changes.clear();
        assertThat(d.table()
                        .apply(
                                new Command.Envelope(d.time(), null, new Command.EndSession(a.id)),
                                EventSink.NONE,
                                changes::add))
                .isEqualTo(new Reply.Ok(0));
        assertThat(kinds()).containsExactly("REGISTER_DELETED svc/a SESSION_EXPIRED");
    }

    @Test
    void aWriteWithoutAttachDetachesTheKeyAndAnotherSessionsAttachMovesIt() {
        put(a, "k", 0, "x", true, 0);
        put(a, "k", 1, "y", false, 0);
        assertThat(d.table().key("k").orElseThrow().owner()).isNull();
        put(b, "k", 2, "z", true, 0);
        d.expire(a);
        assertThat(d.table().register("k")).isPresent();
        d.expire(b);
        assertThat(d.table().register("k")).isEmpty();
    }

    private Reply keep(Client c, String key, long expected, String value) {
        return apply(
                new RegisterSet(c.next(), key, expected, bytes(value), null, 0, true, PutOptions.Lifetime.KEEP, 0));
    }

    @Test
    void aPutThatKeepsItsLifetimeLeavesTheKeyAttachedToItsOwnerWhoeverWritesIt() {
        put(a, "svc/i-1", 0, "x", true, 0);
        assertThat(keep(a, "svc/i-1", 1, "y")).isEqualTo(new Reply.Written(2));
        assertThat(d.table().key("svc/i-1").orElseThrow().owner()).isEqualTo(a.id);
        keep(b, "svc/i-1", 2, "z");
        assertThat(d.table().key("svc/i-1").orElseThrow().owner())
                .as("written by another session, as ZooKeeper's setData")
                .isEqualTo(a.id);
        d.expire(b);
        assertThat(d.table().register("svc/i-1")).isPresent();
        d.expire(a);
        assertThat(d.table().register("svc/i-1"))
                .as("gone with its owner's session")
                .isEmpty();

        keep(d.open("c"), "plain", 0, "p");
        assertThat(d.table().key("plain").orElseThrow().owner()).as("a new key").isNull();
    }

    @Test
    void aPutThatKeepsItsLifetimeKeepsTheDeadlineAndTakesNoTimeToLive() {
        long start = d.time();
        put(a, "lease/x", 0, "x", false, 5_000);
        d.at(start + 1_000);
        keep(b, "lease/x", 1, "y");
        assertThat(d.table().key("lease/x").orElseThrow().expiresAt()).isEqualTo(start + 5_000);
        failed(
                apply(new RegisterSet(
                        b.next(), "lease/x", 2, bytes("z"), null, 0, true, PutOptions.Lifetime.KEEP, 5_000)),
                ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void aKeepingPutInATransactionKeepsTheKeyAttached() {
        put(a, "t/k", 0, "x", true, 0);
        Reply r = apply(new Transaction(
                b.next(),
                List.of(),
                List.of(new Transaction.Op.Put("t/k", 1, bytes("y"), PutOptions.Lifetime.KEEP, 0)),
                List.of()));
        assertThat(r).isInstanceOf(Reply.Transacted.class);
        assertThat(d.table().key("t/k").orElseThrow().owner()).isEqualTo(a.id);
        d.expire(a);
        assertThat(d.table().register("t/k")).isEmpty();
    }

    @Test
    void aKeyWithATimeToLiveGoesAtTheFirstTickAtItsDeadline() {
        long start = d.time();
        put(a, "lease/x", 0, "x", false, 5_000);
        assertThat(d.table().key("lease/x").orElseThrow().expiresAt()).isEqualTo(start + 5_000);
        assertThat(d.table().nextDeadline()).isEqualTo(start + 5_000);

        d.at(start + 4_999);
        apply(new Command.Tick());
        assertThat(d.table().register("lease/x")).isPresent();
        d.at(start + 5_000);
        apply(new Command.Tick());
        assertThat(changes).containsExactly(WatchEvent.registerDeleted("lease/x", null, 1, Cause.LEASE_TIMEOUT));
        assertThat(d.table().register("lease/x")).isEmpty();
        assertThat(d.table().nextDeadline()).isEqualTo(Long.MAX_VALUE);

        put(a, "lease/y", 0, "y", true, 2_000);
        put(a, "lease/y", 1, "y", false, 0);
        assertThat(d.table().nextDeadline())
                .as("a write without a time to live clears it")
                .isEqualTo(Long.MAX_VALUE);
        failed(put(a, "lease/z", 0, "z", false, 999), ErrorCode.INVALID_ARGUMENT);
        failed(put(a, "lease/z", 0, "z", false, Limits.MAX_KEY_TTL_MILLIS + 1), ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void aSessionOwnsAtMostItsLimitOfKeysNamedInTheRefusal() {
        for (int i = 0; i < Limits.MAX_KEYS_PER_SESSION; i++) {
            assertThat(put(a, "k/" + i, 0, "", true, 0)).isInstanceOf(Reply.Written.class);
        }
        Reply.Failed f = failed(put(a, "k/over", 0, "", true, 0), ErrorCode.QUOTA_EXCEEDED);
        assertThat(f.message()).contains("keys-per-session").contains(String.valueOf(Limits.MAX_KEYS_PER_SESSION));
        assertThat(d.table().register("k/over")).isEmpty();
        assertThat(put(a, "k/0", 1, "again", true, 0))
                .as("rewriting a key it owns takes no more")
                .isEqualTo(new Reply.Written(2));
        assertThat(put(a, "k/over", 0, "", false, 0))
                .as("a key it does not own")
                .isEqualTo(new Reply.Written(1));
        d.expire(a);
        assertThat(d.table().stats().registers()).isEqualTo(1);
    }

    @Test
    void keyAndValueSizesAreLimitedWithTheirLimitsNamed() {
        Reply.Failed key =
                failed(put(a, "k".repeat(Limits.MAX_KEY_BYTES + 1), 0, "", false, 0), ErrorCode.INVALID_ARGUMENT);
        assertThat(key.message()).contains("limit is " + Limits.MAX_KEY_BYTES);
        assertThat(put(a, "k".repeat(Limits.MAX_KEY_BYTES), 0, "", false, 0)).isEqualTo(new Reply.Written(1));
        Reply big =
                apply(new RegisterSet(a.next(), "v", 0, new byte[Limits.MAX_VALUE_BYTES + 1], null, 0, true, true, 0));
        assertThat(failed(big, ErrorCode.INVALID_ARGUMENT).message()).contains("limit is " + Limits.MAX_VALUE_BYTES);
    }

    @Test
    void theRegisterBytesQuotaCountsCountersAndDeletesGiveBytesBack() {
        LockTable table = new LockTable();
        table.apply(
                Command.Envelope.of(
                        1, new Command.SetAccessRules("user ops root\nrole root admin *\nlimit register-bytes 12\n")),
                EventSink.NONE);
        table.apply(new Command.Envelope(1, "ops", new Command.OpenSession(a.id, "a", 10_000, 0)), EventSink.NONE);
        Command.Invocation one = new Command.Invocation(a.id, 1, 0);
        Command.Invocation two = new Command.Invocation(a.id, 2, 0);
        Command.Invocation three = new Command.Invocation(a.id, 3, 0);
        Command.Invocation four = new Command.Invocation(a.id, 4, 0);
        assertThat(table.apply(new Command.Envelope(1, "ops", new CounterAdd(one, "n", 5)), EventSink.NONE))
                .isEqualTo(new Reply.Counted(5, 1));
        Reply over = table.apply(
                new Command.Envelope(1, "ops", new RegisterSet(two, "v", 0, new byte[5], null, 0, true, true, 0)),
                EventSink.NONE);
        assertThat(failed(over, ErrorCode.QUOTA_EXCEEDED).message()).contains("register-bytes");
        assertThat(table.apply(new Command.Envelope(1, "ops", new KeyDelete(three, "n", 1)), EventSink.NONE))
                .isEqualTo(new Reply.Ok(1));
        assertThat(table.apply(
                        new Command.Envelope(
                                1, "ops", new RegisterSet(four, "v", 0, new byte[5], null, 0, true, true, 0)),
                        EventSink.NONE))
                .isEqualTo(new Reply.Written(1));
    }

    @Test
    void aRetriedDeleteIsAnsweredFromMemoryAndNotAppliedTwice() {
        put(a, "k", 0, "one", false, 0);
        KeyDelete del = new KeyDelete(b.next(), "k", 1);
        assertThat(apply(del)).isEqualTo(new Reply.Ok(1));
        put(a, "k", 0, "two", false, 0);
        assertThat(apply(del)).as("the retry").isEqualTo(new Reply.Ok(1));
        assertThat(d.table().register("k").orElseThrow().value()).isEqualTo(bytes("two"));
    }

    @Test
    void aSnapshotKeepsAttachedAndTimedKeysInFormatSixAndPlainKeysInTheOldFormat() throws Exception {
        put(a, "plain", 0, "p", false, 0);
        assertThat(ByteBuffer.wrap(d.snapshot()).getInt(4))
                .as("nothing of version 6: the format of version 1")
                .isEqualTo(SnapshotCodec.VERSION_WITHOUT_MULTI_LOCKS);
        long start = d.time();
        put(a, "svc/a", 0, "x", true, 0);
        put(b, "lease/x", 0, "y", true, 3_000);
        byte[] bytes = d.snapshot();
        assertThat(ByteBuffer.wrap(bytes).getInt(4)).isEqualTo(6);

        TableDriver copy = d.restored();
        assertThat(copy.snapshot()).isEqualTo(bytes);
        assertThat(copy.table().key("svc/a").orElseThrow().owner()).isEqualTo(a.id);
        assertThat(copy.table().key("lease/x").orElseThrow())
                .isEqualTo(new KeyPage.Entry("lease/x", 1, bytes("y"), b.id, start + 3_000));
        assertThat(copy.table().nextDeadline()).isEqualTo(start + 3_000);
        copy.expire(copy.client("a"));
        assertThat(copy.table().register("svc/a")).isEmpty();
        assertThat(copy.table().register("plain")).isPresent();
        copy.tickAt(start + 3_000);
        assertThat(copy.table().register("lease/x")).isEmpty();
    }

    @Test
    void aSnapshotThatAttachesAKeyToAnUnknownSessionIsRefused() throws Exception {
        put(a, "svc/a", 0, "x", true, 0);
        byte[] bytes = d.snapshot();
        String id = a.id;
        String other = id.replace('a', 'z');
        assertThat(other).hasSameSizeAs(id).isNotEqualTo(id);
        // Replace the id in the key lifetimes only (the last occurrence), and fix the checksum.
        byte[] idBytes = bytes(id);
        int at = lastIndexOf(bytes, idBytes);
        System.arraycopy(bytes(other), 0, bytes, at, idBytes.length);
        int bodyLength = ByteBuffer.wrap(bytes).getInt(8);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, 12, bodyLength);
        ByteBuffer.wrap(bytes).putInt(12 + bodyLength, (int) crc.getValue());
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> LockTable.readSnapshot(new java.io.ByteArrayInputStream(bytes)))
                .isInstanceOf(SnapshotFormatException.class)
                .hasMessageContaining("unknown session");
    }

    private static int lastIndexOf(byte[] in, byte[] what) {
        for (int i = in.length - what.length; i >= 0; i--) {
            if (java.util.Arrays.equals(in, i, i + what.length, what, 0, what.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    @Test
    void aRestoredTableKeepsTimedKeysAndDropsAttachedOnes() {
        long start = d.time();
        put(a, "svc/a", 0, "x", true, 0);
        put(a, "lease/x", 0, "y", false, 4_000);
        LockTable restored = d.table().restored(0);
        assertThat(restored.register("svc/a")).isEmpty();
        assertThat(restored.key("lease/x").orElseThrow().expiresAt()).isEqualTo(start + 4_000);
        assertThat(restored.nextDeadline()).isEqualTo(start + 4_000);
    }
}
