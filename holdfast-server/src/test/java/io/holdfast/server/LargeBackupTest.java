package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.HolderInfo;
import io.holdfast.LockMode;
import io.holdfast.core.LockTable;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.backup.BackupDownload;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.Restore;
import io.holdfast.server.config.ServerConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup of a table far above the old one-message ceiling (16 MiB): a node holding 1,000,000
 * locks is backed up over its HTTP port as a stream, the file is read back and checked, and a new
 * node is restored from it. With the table in one message, as before, the backup could not be
 * taken at all.
 */
class LargeBackupTest {
    private static final int SESSIONS = 100;
    private static final int LOCKS_PER_SESSION = 10_000;
    private static final int LOCKS = SESSIONS * LOCKS_PER_SESSION;

    @TempDir
    Path dir;

    @Test
    void aMillionHeldLocksAreBackedUpAsAStreamAndRestored() throws Exception {
        long started = System.nanoTime();
        Map<String, Long> sample = new LinkedHashMap<>();
        long lastToken = seed(dir.resolve("old"), sample); // the node loads its own copy of the table
        Path file = dir.resolve("big.hfbk");
        ServerConfig config =
                ServerConfig.single(dir.resolve("old"), "127.0.0.1", TestCluster.freePort(), TestCluster.freePort(), 0);
        BackupDownload.Saved saved;
        try (HoldfastServer node = HoldfastServer.start(config)) {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(node::isLeader);
            saved = BackupDownload.fetch(
                    List.of(URI.create("http://127.0.0.1:" + node.httpPort())),
                    null,
                    null,
                    file,
                    Duration.ofSeconds(30));
        }
        assertThat(Files.size(file)).isEqualTo(saved.bytes()).isGreaterThan(16L << 20);
        assertThat(saved.header().index()).isGreaterThanOrEqualTo(1_000);

        BackupFile.Verified read = BackupFile.read(file);
        assertThat(read.table().stats().holds()).isEqualTo(LOCKS);
        assertThat(read.table().resourceCount()).isEqualTo(LOCKS);
        for (Map.Entry<String, Long> e : sample.entrySet()) {
            List<HolderInfo> holders =
                    read.table().describe(e.getKey(), 0).orElseThrow().holders();
            assertThat(holders).hasSize(1);
            assertThat(holders.get(0).fencingToken()).as(e.getKey()).isEqualTo(e.getValue());
        }

        Path fresh = dir.resolve("new");
        Restore.Seeded seeded = Restore.seed(read, fresh, 0);
        read = null; // let the copy go before the new node loads its table
        assertThat(seeded.lastToken()).isGreaterThanOrEqualTo(lastToken + Restore.TOKEN_JUMP);
        ServerConfig second =
                ServerConfig.single(fresh, "127.0.0.1", TestCluster.freePort(), TestCluster.freePort(), -1);
        try (HoldfastServer node = HoldfastServer.start(second)) {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(node::isLeader);
            LockTable.Stats stats = node.parts()
                    .inspector()
                    .inspect((t, now) -> t.stats())
                    .get(10, java.util.concurrent.TimeUnit.SECONDS)
                    .value();
            assertThat(stats.holds())
                    .as("a restored cluster holds no old grant")
                    .isZero();
            assertThat(stats.lastToken()).isEqualTo(seeded.lastToken());
        }
        long peak = 0;
        for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf(
                "LargeBackupTest: %d locks, backup %d bytes, %d ms, heap pools' peak %d MiB of %d MiB%n",
                LOCKS,
                saved.bytes(),
                (System.nanoTime() - started) / 1_000_000,
                peak >> 20,
                Runtime.getRuntime().maxMemory() >> 20);
    }

    /** Seeds {@code dataDir} with the table of held locks; returns its last token. */
    private static long seed(Path dataDir, Map<String, Long> sample) throws Exception {
        LockTable table = tableOfHeldLocks(sample);
        Restore.seedTable(table, 1_000, dataDir);
        return table.lastToken();
    }

    /**
     * A table with {@value #LOCKS} exclusive locks held, and the tokens of a sample of them. The
     * default quota of the table's entries (sessions, locks and registers together) is 1,000,000, so
     * access rules lift it while the locks are taken, and are turned off again (a table above a
     * quota keeps what it holds; the node then runs without access control).
     */
    private static LockTable tableOfHeldLocks(Map<String, Long> sample) {
        LockTable table = new LockTable();
        String rules = "user big root\nrole root admin *\nlimit state-entries " + 2 * LOCKS + "\n";
        assertThat(table.apply(Command.Envelope.of(1, new Command.SetAccessRules(rules)), e -> {}))
                .isEqualTo(Reply.Ok.INSTANCE);
        for (int s = 0; s < SESSIONS; s++) {
            String session = String.format("large-backup-session-%04d", s);
            Reply opened = table.apply(
                    new Command.Envelope(1, "big", new Command.OpenSession(session, "test", 600_000, 0)), e -> {});
            assertThat(opened).isEqualTo(Reply.Ok.INSTANCE);
            for (int i = 0; i < LOCKS_PER_SESSION; i++) {
                long seq = i + 1;
                String name = "big/" + s + "/" + i;
                Reply r = table.apply(
                        new Command.Envelope(
                                1,
                                "big",
                                new Command.Acquire(
                                        new Command.Invocation(session, seq, seq),
                                        name,
                                        LockMode.EXCLUSIVE,
                                        1,
                                        1,
                                        1,
                                        0,
                                        0)),
                        e -> {});
                if (!(r instanceof Reply.Granted)) {
                    throw new AssertionError(name + ": " + r);
                }
                if (i % 2_500 == 0 && s % 10 == 0) {
                    sample.put(name, ((Reply.Granted) r).token());
                }
            }
        }
        assertThat(table.apply(new Command.Envelope(1, "big", new Command.SetAccessRules(null)), e -> {}))
                .isEqualTo(Reply.Ok.INSTANCE);
        assertThat(table.accessRules()).isNull();
        return table;
    }
}
