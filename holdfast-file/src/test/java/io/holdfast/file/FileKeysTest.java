package io.holdfast.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Keys in a real directory: one client, several processes, a crash in the middle of a transaction. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FileKeysTest {
    private final List<LockClient> clients = new ArrayList<>();
    private final List<Process> children = new ArrayList<>();

    @TempDir
    Path base;

    private Path dir;
    private Keys keys;

    @BeforeEach
    void open() {
        dir = base.resolve("store");
        keys = client().keys();
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        clients.forEach(LockClient::close);
    }

    private LockClient client() {
        LockClient client = LockClient.open(dir.toUri().toString());
        clients.add(client);
        return client;
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putsAndDeletesCompareVersions() {
        assertThat(keys.put("config/db", text("a"), PutOptions.ifAbsent()).version())
                .isEqualTo(1);
        assertThatThrownBy(() -> keys.put("config/db", text("b"), PutOptions.ifAbsent()))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(1));
        assertThat(keys.put("config/db", text("c"), PutOptions.ifVersion(1)).version())
                .isEqualTo(2);
        assertThat(client().keys().get("config/db").orElseThrow())
                .as("another client reads the files")
                .isEqualTo(new KeyEntry("config/db", 2, text("c"), null));

        assertThatThrownBy(() -> keys.delete("config/db", 1)).isInstanceOf(ConflictException.class);
        assertThat(keys.get("config/db")).isPresent();
        assertThat(keys.delete("config/db", 2)).as("the version it had").isEqualTo(2);
        assertThat(keys.get("config/db")).isEmpty();
        assertThat(keys.delete("config/db")).as("an absent key").isZero();
        assertThatThrownBy(() -> keys.delete("config/db", 2)).isInstanceOf(ConflictException.class);
        assertThat(keys.put("config/db", text("d")).version())
                .as("the first write after a delete")
                .isEqualTo(1);
    }

    @Test
    void listingsAreInByteOrderOfUtf8AndPaged() {
        String longHead = "a/" + "x".repeat(40);
        List<String> expected = List.of(
                "a/Z", longHead + "1", longHead + "2", "a/z", "a/é", "a/\uFFFD", "a/\uD83D\uDE00", "a/\uD83D\uDE00/x");
        for (String key : List.of(
                "a/\uD83D\uDE00/x",
                longHead + "2",
                "a/\uFFFD",
                "a/\uD83D\uDE00",
                "a/z",
                "a",
                "b/x",
                "a/é",
                longHead + "1",
                "a/Z")) {
            keys.put(key, text(key));
        }
        // UTF-16 order would put the emoji (a surrogate, D83D) before U+FFFD; its UTF-8 (F0) comes after (EF).
        assertThat(keys.list("a/").entries()).extracting(KeyEntry::key).containsExactlyElementsOf(expected);

        List<String> paged = new ArrayList<>();
        String after = "";
        for (int pages = 1; ; pages++) {
            KeyListing page = keys.list("a/", after, 3);
            page.entries().forEach(e -> paged.add(e.key()));
            assertThat(page.entries()).hasSizeLessThanOrEqualTo(3);
            if (page.next() == null) {
                assertThat(pages).isEqualTo(3);
                break;
            }
            after = page.next();
        }
        assertThat(paged).containsExactlyElementsOf(expected);
        assertThat(keys.list(longHead).entries())
                .as("a prefix longer than the name's head")
                .extracting(KeyEntry::key)
                .containsExactly(longHead + "1", longHead + "2");
        assertThat(keys.list("").entries()).hasSize(10);
        assertThat(keys.list("c").entries()).isEmpty();
    }

    /**
     * A store provider's prefix delete and keys-only listing are the API's defaults over its list
     * and delete: every key of the prefix goes, page by page, and no other; the values are dropped.
     */
    @Test
    void aPrefixIsDeletedAndListedKeysOnlyByTheApisDefaults() {
        for (int i = 0; i < Keys.MAX_PAGE + 2; i++) {
            keys.put(String.format("bulk/%04d", i), text("v"));
        }
        keys.put("bulkhead", text("stays"));
        KeyListing names = keys.list("bulk/", "", 2, true);
        assertThat(names.entries()).extracting(KeyEntry::key).containsExactly("bulk/0000", "bulk/0001");
        assertThat(names.entries().get(0).value()).isEmpty();
        assertThat(names.entries().get(0).version()).isEqualTo(1);

        assertThat(keys.deletePrefix("bulk/")).isEqualTo(Keys.MAX_PAGE + 2);
        assertThat(keys.list("bulk").entries()).extracting(KeyEntry::key).containsExactly("bulkhead");
        assertThatThrownBy(() -> keys.deletePrefix(""))
                .isInstanceOf(io.holdfast.InvalidArgumentException.class)
                .hasMessage(Keys.EMPTY_PREFIX_DELETE);
    }

    @Test
    void countersAddInOneStep() {
        assertThat(keys.add("hits", 5)).isEqualTo(5);
        assertThat(keys.add("hits", -7)).isEqualTo(-2);
        KeyEntry hits = keys.get("hits").orElseThrow();
        assertThat(hits.counter()).isEqualTo(-2);
        assertThat(hits.version()).isEqualTo(2);

        keys.put("name", text("not a number"));
        assertThatThrownBy(() -> keys.add("name", 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("name holds 12 bytes, not a counter (exactly 8 bytes)");
        keys.put("big", FileChild.counter(Long.MAX_VALUE));
        assertThatThrownBy(() -> keys.add("big", 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("would overflow a 64-bit counter");
        assertThat(keys.get("big").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aKeyWithATimeToLiveIsGoneWhenItPasses() {
        keys.put("lease/job", text("x"), PutOptions.ifAbsent().ttl(Duration.ofSeconds(1)));
        keys.put("lease/keep", text("y"));
        // the file store's TTL is the files' wall clock, shared with other processes: real time passes here
        await("lease/job expired within 5 s")
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> keys.get("lease/job").isEmpty());
        assertThat(keys.list("lease/").entries()).extracting(KeyEntry::key).containsExactly("lease/keep");
        assertThat(keys.put("lease/job", text("z"), PutOptions.ifAbsent()).version())
                .as("absent again: a new first version")
                .isEqualTo(1);
        assertThat(keys.get("lease/job").orElseThrow().text()).isEqualTo("z");
    }

    @Test
    void aTransactionRunsOneBranchAllOrNothing() {
        keys.put("from", FileChild.counter(10));
        TxnResult moved = keys.commit(Txn.when(Txn.version("from", Txn.Order.EQUAL, 1), Txn.absent("to"))
                .then(Txn.put("from", FileChild.counter(7)), Txn.add("to", 3), Txn.get("from"))
                .otherwise(Txn.get("from")));
        assertThat(moved.succeeded()).isTrue();
        assertThat(moved.results().get(1).counter()).isEqualTo(3);
        assertThat(moved.results().get(2).version()).isEqualTo(2);

        TxnResult again =
                keys.commit(Txn.when(Txn.absent("to")).then(Txn.delete("from")).otherwise(Txn.get("to")));
        assertThat(again.succeeded()).isFalse();
        assertThat(again.results()).hasSize(1);
        assertThat(again.results().get(0).version()).isEqualTo(1);

        assertThatThrownBy(() ->
                        keys.commit(Txn.when().then(Txn.put("from", FileChild.counter(0)), Txn.delete("to", 5))))
                .isInstanceOf(ConflictException.class)
                .hasMessageStartingWith("then op 2: ");
        assertThat(keys.get("from").orElseThrow().counter())
                .as("nothing changed")
                .isEqualTo(7);
    }

    @Test
    void aFenceCompareHoldsOnlyWhileThisClientsGrantIsCurrent() {
        LockClient client = client();
        Keys mine = client.keys();
        Lease lease = client.lock("leader").tryAcquire().orElseThrow();
        Txn fenced = Txn.when(Txn.fence(lease)).then(Txn.add("epoch", 1));
        assertThat(mine.commit(fenced).succeeded()).isTrue();
        assertThat(keys.commit(fenced).succeeded()).as("another client's lease").isFalse();
        lease.release();
        assertThat(mine.commit(fenced).succeeded()).as("a released lease").isFalse();
        assertThat(keys.get("epoch").orElseThrow().counter()).isEqualTo(1);
    }

    @Test
    void aTransactionCannotCompareALocksHolder() {
        assertThatThrownBy(() ->
                        keys.commit(Txn.when(Txn.holder("leader", "file-1-ab")).then(Txn.add("n", 1))))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("cannot compare");
        assertThat(keys.get("n")).isEmpty();
    }

    @Test
    void attachedKeysGoWhenTheirClientCloses() {
        LockClient member = client();
        KeyEntry joined = member.keys()
                .put("members/a", text("10.0.0.1"), PutOptions.ifAbsent().attach());
        assertThat(joined.owner()).isEqualTo(member.sessionId());
        member.keys().put("members/kept", text("x"), PutOptions.any().attach());
        member.keys().put("members/kept", text("y"), PutOptions.any().detach()); // lives until deleted
        member.keys().put("members/also", text("x"), PutOptions.any().attach());
        member.keys().put("members/also", text("y")); // names no lifetime: stays attached
        assertThat(keys.get("members/a").orElseThrow().owner()).isEqualTo(member.sessionId());
        Txn alive = Txn.when(Txn.sessionAlive(member.sessionId())).then(Txn.get("members/a"));
        assertThat(keys.commit(alive).succeeded()).isTrue();
        assertThat(keys.commit(Txn.when(Txn.sessionAlive(client().sessionId()))).succeeded())
                .as("a client with no keys attached is alive too")
                .isTrue();

        member.close();
        assertThat(keys.get("members/a")).isEmpty();
        assertThat(keys.list("members/").entries()).extracting(KeyEntry::key).containsExactly("members/kept");
        assertThat(keys.commit(alive).succeeded()).isFalse();
    }

    @Test
    void attachedKeysGoAtOnceWhenTheirProcessDies() throws Exception {
        Process p = ChildJvms.start("member", dir.toUri().toString(), "members/child");
        children.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).startsWith("JOINED ");
        String session = line.substring("JOINED ".length());
        assertThat(keys.get("members/child").orElseThrow().owner()).isEqualTo(session);
        assertThat(keys.commit(Txn.when(Txn.sessionAlive(session))).succeeded()).isTrue();

        p.destroyForcibly();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(keys.get("members/child")).as("right after the process died").isEmpty();
        assertThat(keys.commit(Txn.when(Txn.sessionAlive(session))).succeeded()).isFalse();
        assertThat(dir.resolve(SessionFiles.SESSIONS).resolve(session + ".session"))
                .as("the dead session's file, deleted by the reader")
                .doesNotExist();
    }

    @Test
    void aSimulatedCrashEndsTheSessionAndItsKeys() {
        LockClient member = client();
        member.keys().put("members/b", text("x"), PutOptions.any().attach());
        io.holdfast.internal.CrashSimulation.crash(member);
        assertThat(keys.get("members/b")).isEmpty();
    }

    @Test
    void processesMovingValueInTransactionsKeepTheSum() throws Exception {
        keys.put("acct/a", FileChild.counter(1000));
        keys.put("acct/b", FileChild.counter(0));
        Path go = base.resolve("go");
        List<BufferedReader> outs = new ArrayList<>();
        for (String[] move : List.of(new String[] {"acct/a", "acct/b"}, new String[] {"acct/b", "acct/a"})) {
            // fsync=false: what is tested is the exclusion between processes, not the disk
            Process p = ChildJvms.start("move", dir.toUri() + "?fsync=false", move[0], move[1], "50", go.toString());
            children.add(p);
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("READY");
            outs.add(out);
        }
        Files.createFile(go);
        int lists = 0;
        while (children.stream().anyMatch(Process::isAlive)) {
            List<KeyEntry> both = keys.list("acct/").entries();
            assertThat(both.get(0).counter() + both.get(1).counter())
                    .as("the sum in listing %d", lists++)
                    .isEqualTo(1000);
        }
        for (BufferedReader out : outs) {
            assertThat(out.readLine()).isEqualTo("DONE");
        }
        KeyEntry a = keys.get("acct/a").orElseThrow();
        KeyEntry b = keys.get("acct/b").orElseThrow();
        assertThat(a.counter() + b.counter()).isEqualTo(1000);
        assertThat(a.counter()).as("as many moves each way").isEqualTo(1000);
        assertThat(a.version()).as("one write per move").isEqualTo(101);
        assertThat(lists).isPositive();
    }

    @Test
    void aTransactionCutByACrashIsFinishedByTheNextCall() throws IOException {
        keys.put("x", text("old x"));
        keys.put("y", text("old y"));
        // A process died between the two renames of a transaction: its journal and one key are in place.
        KeyFiles files = new KeyFiles(dir, true);
        Map<String, KeyFiles.Entry> changes = new LinkedHashMap<>();
        changes.put(KeyFiles.fileName("x"), new KeyFiles.Entry("x", 2, text("new x"), 0, null));
        changes.put(KeyFiles.fileName("y"), new KeyFiles.Entry("y", 2, text("new y"), 0, null));
        files.writeJournal(changes);
        files.write(KeyFiles.fileName("x"), changes.get(KeyFiles.fileName("x")));

        assertThat(client().keys().get("y").orElseThrow()).isEqualTo(new KeyEntry("y", 2, text("new y"), null));
        assertThat(Files.exists(files.dir().resolve(KeyFiles.JOURNAL))).isFalse();

        Files.write(files.dir().resolve(KeyFiles.JOURNAL), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> keys.get("x"))
                .as("a damaged journal stops every call rather than guess")
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("damaged");
    }
}
