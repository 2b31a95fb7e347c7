package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.Keys;
import io.holdfast.PutOptions.Lifetime;
import io.holdfast.WatchEvent;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A page of a prefix delete through the pure table ({@link KeyDeletePrefix}, protocol version 9):
 * the first keys of the prefix in byte order, at most the page's limit, each deleted and told as a
 * single delete of any version would be; elections' records and other prefixes stay; a retry is
 * answered from memory; a malformed page, and one with a key the caller may not write, delete
 * nothing.
 */
class PrefixDeleteTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final List<WatchEvent> changes = new ArrayList<>();

    private Reply apply(Command c) {
        changes.clear();
        return d.table().apply(Command.Envelope.of(d.time(), c), EventSink.NONE, changes::add);
    }

    private void put(Client c, String key, Lifetime lifetime) {
        Reply r = apply(
                new RegisterSet(c.next(), key, 0, key.getBytes(StandardCharsets.UTF_8), null, 0, true, lifetime, 0));
        assertThat(r).as(key).isEqualTo(new Reply.Written(1));
    }

    private List<String> keys(String prefix) {
        KeyPage page = d.table().keys(prefix, null, Keys.MAX_PAGE, k -> true, ChangePosition.START);
        return page.keys().stream().map(KeyPage.Entry::key).toList();
    }

    @Test
    void aPageDeletesTheFirstKeysOfThePrefixInByteOrderUpToItsLimit() {
        for (String k : List.of("svc/c", "svc/a", "svc/\uD83D\uDE00", "svc/b", "svc", "svd/a", "other")) {
            put(a, k, Lifetime.DETACH);
        }

        assertThat(apply(new KeyDeletePrefix(a.next(), "svc/", 2))).isEqualTo(new Reply.Ok(2));
        assertThat(changes)
                .containsExactly(
                        WatchEvent.registerDeleted("svc/a", a.id, 1, null),
                        WatchEvent.registerDeleted("svc/b", a.id, 1, null));
        assertThat(keys("svc/")).containsExactly("svc/c", "svc/\uD83D\uDE00");

        assertThat(apply(new KeyDeletePrefix(a.next(), "svc/", 2)))
                .as("a full page: there may be more")
                .isEqualTo(new Reply.Ok(2));
        assertThat(apply(new KeyDeletePrefix(a.next(), "svc/", 2)))
                .as("an empty page: the prefix is done")
                .isEqualTo(new Reply.Ok(0));
        assertThat(changes).isEmpty();
        assertThat(keys("")).containsExactly("other", "svc", "svd/a");
        assertThat(d.table().stats().registers()).isEqualTo(3);
    }

    @Test
    void anotherSessionsAttachedKeyGoesAsASingleDeleteWouldTakeItAndItsCountWithIt() {
        put(b, "svc/b", Lifetime.ATTACH);
        put(a, "svc/a", Lifetime.ATTACH);

        assertThat(apply(new KeyDeletePrefix(a.next(), "svc/", 10))).isEqualTo(new Reply.Ok(2));
        assertThat(changes)
                .containsExactly(
                        WatchEvent.registerDeleted("svc/a", a.id, 1, null),
                        WatchEvent.registerDeleted("svc/b", a.id, 1, null));

        put(b, "svc/b", Lifetime.ATTACH);
        apply(new Command.CloseSession(b.next()));
        assertThat(changes)
                .as("b's key written again after the prefix delete goes with b, once")
                .containsExactly(WatchEvent.registerDeleted("svc/b", b.id, 1, WatchEvent.Cause.SESSION_CLOSED));
    }

    @Test
    void anElectionsRecordIsNoKeyAndStays() {
        put(a, "svc/config", Lifetime.DETACH);
        long t = token(a.acquire("svc/leader").apply());
        byte[] record = (t + ":me").getBytes(StandardCharsets.UTF_8);
        assertThat(apply(new RegisterSet(a.next(), "svc/leader", 0, record, "svc/leader", t, true, Lifetime.KEEP, 0)))
                .isEqualTo(new Reply.Written(1));

        assertThat(apply(new KeyDeletePrefix(b.next(), "svc/", 1))).isEqualTo(new Reply.Ok(1));
        assertThat(d.table().register("svc/leader")).isPresent();
        assertThat(d.table().register("svc/config")).isEmpty();
        assertThat(apply(new KeyDeletePrefix(b.next(), "svc/", 1))).isEqualTo(new Reply.Ok(0));
    }

    @Test
    void aRetryIsAnsweredFromMemoryAndDeletesNothingWrittenSince() {
        put(a, "svc/a", Lifetime.DETACH);
        Invocation inv = a.next();
        assertThat(apply(new KeyDeletePrefix(inv, "svc/", 10))).isEqualTo(new Reply.Ok(1));
        put(b, "svc/new", Lifetime.DETACH);

        assertThat(apply(new KeyDeletePrefix(inv, "svc/", 10))).isEqualTo(new Reply.Ok(1));
        assertThat(changes).isEmpty();
        assertThat(keys("svc/")).containsExactly("svc/new");
    }

    @Test
    void anEmptyPrefixABadOneAndALimitOutOfRangeAreRefusedAndDeleteNothing() {
        put(a, "svc/a", Lifetime.DETACH);

        assertThat(failed(apply(new KeyDeletePrefix(a.next(), "", 10)), ErrorCode.INVALID_ARGUMENT)
                        .message())
                .isEqualTo(Keys.EMPTY_PREFIX_DELETE);
        failed(apply(new KeyDeletePrefix(a.next(), null, 10)), ErrorCode.INVALID_ARGUMENT);
        failed(apply(new KeyDeletePrefix(a.next(), "svc/../", 10)), ErrorCode.INVALID_ARGUMENT);
        assertThat(failed(apply(new KeyDeletePrefix(a.next(), "svc/", 0)), ErrorCode.INVALID_ARGUMENT)
                        .message())
                .isEqualTo("a prefix delete's limit must be between 1 and 1000, not 0");
        failed(apply(new KeyDeletePrefix(a.next(), "svc/", 1001)), ErrorCode.INVALID_ARGUMENT);
        assertThat(changes).isEmpty();
        assertThat(keys("svc/")).containsExactly("svc/a");
    }

    @Test
    void withAccessRulesAPageWithAKeyTheCallerMayNotWriteDeletesNothing() {
        LockTable table = new LockTable();
        String rules = """
                user alice writer
                user ops root
                role writer acquire a/* read *
                role root admin *
                """;
        assertThat(table.apply(new Command.Envelope(1_000, null, new Command.SetAccessRules(rules)), e -> {}))
                .isEqualTo(Reply.Ok.INSTANCE);
        String alice = "alice-session-000000000001";
        String ops = "ops-session-00000000000001";
        for (String[] s : new String[][] {{"alice", alice}, {"ops", ops}}) {
            assertThat(table.apply(
                            new Command.Envelope(1_000, s[0], new Command.OpenSession(s[1], s[0], 10_000, 0)), e -> {}))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
        long[] seq = {0};
        java.util.function.BiFunction<String, Command, Reply> as =
                (who, c) -> table.apply(new Command.Envelope(1_000, who, c), e -> {});
        for (String k : List.of("a/1", "a/2", "a0")) {
            assertThat(as.apply(
                            "ops",
                            new RegisterSet(
                                    new Invocation(ops, ++seq[0], 0),
                                    k,
                                    0,
                                    new byte[] {1},
                                    null,
                                    0,
                                    true,
                                    Lifetime.DETACH,
                                    0)))
                    .isEqualTo(new Reply.Written(1));
        }

        Reply.Failed f = failed(
                as.apply("alice", new KeyDeletePrefix(new Invocation(alice, 1, 0), "a", 10)),
                ErrorCode.PERMISSION_DENIED);
        assertThat(f.message()).isEqualTo("identity alice may not write a0");
        assertThat(table.register("a/1")).as("nothing deleted").isPresent();

        assertThat(as.apply("alice", new KeyDeletePrefix(new Invocation(alice, 2, 0), "a/", 10)))
                .isEqualTo(new Reply.Ok(2));
        assertThat(table.register("a0")).isPresent();
    }
}
