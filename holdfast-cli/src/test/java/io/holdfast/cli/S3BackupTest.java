package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.BackupKey;
import io.holdfast.server.backup.BackupSchedule;
import io.holdfast.server.backup.Restore;
import io.holdfast.server.backup.S3Store;
import io.holdfast.server.backup.StoredBackups;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.MovedClock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups to and restores from a real S3-compatible server (S3Proxy in its own process, {@link
 * S3ProxyProcess}), encrypted with the operator's key, as an operator runs them: {@code holdfast
 * backup --out s3://…}, {@code holdfast restore s3://…}, and scheduled backups into a bucket's
 * prefix with their retention. Every refusal is one line with its documented exit code, and the
 * credentials never appear in what the commands print.
 */
class S3BackupTest {
    private static final String BUCKET = "holdfast-backups";

    @TempDir
    static Path proxyDir;

    private static S3ProxyProcess s3;

    @TempDir
    Path dir;

    private StringWriter out;
    private StringWriter err;
    private final List<String> printed = new ArrayList<>();

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyProcess.start(proxyDir, BUCKET);
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    /** Nothing any command printed holds a credential. */
    @AfterEach
    void noCredentialPrinted() {
        assertThat(printed)
                .allSatisfy(text -> assertThat(text)
                        .doesNotContain(S3ProxyProcess.CREDENTIAL)
                        .doesNotContain(S3ProxyProcess.IDENTITY));
    }

    private int run(Map<String, String> env, String... args) {
        out = new StringWriter();
        err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env)
                .execute(args);
        printed.add(out.toString());
        printed.add(err.toString());
        return code;
    }

    private int run(String... args) {
        return run(S3ProxyProcess.credentials(), args);
    }

    private Path newKey(String name, boolean base64) throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path file = dir.resolve(name);
        if (base64) {
            Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n");
        } else {
            Files.write(file, key);
        }
        return file;
    }

    private static int freePort() {
        return io.holdfast.testkit.FreePorts.next();
    }

    @Test
    void backUpARunningNodeToS3AndStartANewOneFromIt() throws Exception {
        Path key = newKey("backup.key", true);
        String object = "s3://" + BUCKET + "/prod/first.hfbk";
        String endpoint = s3.endpoint().toString();
        long oldToken;
        int httpPort = freePort();
        ServerConfig first = ServerConfig.single(dir.resolve("old"), "127.0.0.1", freePort(), freePort(), httpPort);
        try (HoldfastServer node = HoldfastServer.start(first);
                LockClient client = LockClient.open("holdfast://127.0.0.1:" + node.clientPort())) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
            Lease held = client.lock("s3/held").acquire(Duration.ofSeconds(5));
            oldToken = held.fencingToken();
            client.register("s3/reg").compareAndSet(0, "kept in the bucket".getBytes(StandardCharsets.UTF_8));
            assertThat(run(
                            "backup",
                            "--out",
                            object,
                            "--backup-key",
                            key.toString(),
                            "--s3-endpoint",
                            endpoint,
                            "--backend",
                            "holdfast://127.0.0.1:" + node.clientPort(),
                            "--http",
                            "http://127.0.0.1:" + httpPort))
                    .as(err::toString)
                    .isZero();
            assertThat(out.toString())
                    .contains("Saved the lock table of cluster " + node.status().clusterId())
                    .contains("encrypted (AES-256-GCM)")
                    .contains(object);
        }
        // In the store, encrypted: the header's magic, and none of the table's words in clear.
        byte[] stored = Files.readAllBytes(s3.object(BUCKET, "prod/first.hfbk"));
        assertThat(new String(stored, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("HFBE");
        assertThat(new String(stored, StandardCharsets.ISO_8859_1))
                .doesNotContain("s3/reg")
                .doesNotContain("kept in the bucket");

        Path fresh = dir.resolve("new");
        assertThat(restore(S3ProxyProcess.credentials(), object, fresh.toString(), key, endpoint))
                .as(err::toString)
                .isZero();
        assertThat(out.toString())
                .contains("from " + object)
                .contains("decrypted")
                .contains("above " + (oldToken + Restore.TOKEN_JUMP));

        ServerConfig second = ServerConfig.single(fresh, "127.0.0.1", freePort(), freePort(), -1);
        try (HoldfastServer node = HoldfastServer.start(second);
                LockClient client = LockClient.open("holdfast://127.0.0.1:" + node.clientPort())) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
            assertThat(client.register("s3/reg").get().orElseThrow().value())
                    .isEqualTo("kept in the bucket".getBytes(StandardCharsets.UTF_8));
            assertThat(client.admin().describe("s3/held"))
                    .as("the old holder's grant is gone")
                    .isEmpty();
            assertThat(client.lock("s3/held").acquire(Duration.ofSeconds(5)).fencingToken())
                    .isGreaterThan(oldToken + Restore.TOKEN_JUMP);
        }
    }

    @Test
    void aWrongKeyAChangedObjectAMissingOneAndBadCredentialsFailInOneLine() throws Exception {
        Path key = newKey("right.key", false);
        BackupKey right = BackupKey.read(key);
        String endpoint = s3.endpoint().toString();
        // A real backup, stored encrypted through the store (no node needed for the refusals).
        Path plain = dir.resolve("plain.hfbk");
        try (java.io.OutputStream o = Files.newOutputStream(plain)) {
            byte[] table = emptyTable();
            BackupFile.write(
                    new BackupFile.Header(7, 1, 0, UUID.randomUUID(), table.length),
                    new java.io.ByteArrayInputStream(table),
                    o);
        }
        try (S3Store store =
                S3Store.open("s3://" + BUCKET + "/refusals", s3.endpoint(), null, S3ProxyProcess.credentials(), dir)) {
            StoredBackups.save(plain, store, "good.hfbk", right);
            byte[] changed = Files.readAllBytes(s3.object(BUCKET, "refusals/good.hfbk"));
            changed[changed.length / 2] ^= 1;
            Path changedFile = Files.write(dir.resolve("changed"), changed);
            store.put("changed.hfbk", o -> Files.copy(changedFile, o));
        }
        String good = "s3://" + BUCKET + "/refusals/good.hfbk";

        assertThat(restore(S3ProxyProcess.credentials(), good, dir.resolve("d0").toString(), key, endpoint))
                .as(err::toString)
                .isZero();

        Path wrong = newKey("wrong.key", false);
        assertThat(restore(S3ProxyProcess.credentials(), good, dir.resolve("d1").toString(), wrong, endpoint))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains(good + " cannot be decrypted: wrong key, or the backup was changed")
                .hasLineCount(1);
        assertThat(dir.resolve("d1")).doesNotExist();

        String changed = "s3://" + BUCKET + "/refusals/changed.hfbk";
        assertThat(restore(
                        S3ProxyProcess.credentials(), changed, dir.resolve("d2").toString(), key, endpoint))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains(changed + " cannot be decrypted: wrong key, or the backup was changed")
                .hasLineCount(1);

        String missing = "s3://" + BUCKET + "/refusals/none.hfbk";
        assertThat(restore(
                        S3ProxyProcess.credentials(), missing, dir.resolve("d3").toString(), key, endpoint))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("no backup " + missing).hasLineCount(1);

        Map<String, String> badSecret = new HashMap<>(S3ProxyProcess.credentials());
        badSecret.put("AWS_SECRET_ACCESS_KEY", "not-the-secret");
        assertThat(restore(badSecret, good, dir.resolve("d4").toString(), key, endpoint))
                .isEqualTo(ExitCodes.NO_PERMISSION);
        assertThat(err.toString()).contains(good + ": access denied").hasLineCount(1);
        assertThat(err.toString()).doesNotContain("not-the-secret");

        assertThat(restore(Map.of(), good, dir.resolve("d5").toString(), key, endpoint))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
                .hasLineCount(1);

        assertThat(run("restore", good, "--data-dir", dir.resolve("d6").toString(), "--s3-endpoint", endpoint))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("needs --backup-key FILE").hasLineCount(1);

        Path shortKey = Files.writeString(dir.resolve("short.key"), "too short");
        assertThat(restore(S3ProxyProcess.credentials(), good, dir.resolve("d7").toString(), shortKey, endpoint))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains("holds 9 bytes; it must hold 32 random bytes or their base64")
                .doesNotContain("too short")
                .hasLineCount(1);

        // The server checks its backup options before it starts: no key for s3://, a key without a schedule.
        assertThat(run(
                        "server",
                        "--data-dir",
                        dir.resolve("s1").toString(),
                        "--backup-every",
                        "1h",
                        "--backup-dir",
                        "s3://" + BUCKET + "/scheduled",
                        "--s3-endpoint",
                        endpoint))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .isEqualTo("holdfast server: s3://" + BUCKET + "/scheduled needs --backup-key FILE: backups kept in"
                        + " an object store are encrypted" + System.lineSeparator());
        assertThat(run("server", "--data-dir", dir.resolve("s2").toString(), "--backup-key", key.toString()))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains("--backup-key needs --backup-every DURATION")
                .hasLineCount(1);
        assertThat(run("backup", "--out", "s3://" + BUCKET + "/", "--backup-key", key.toString()))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains("names no object: give s3://BUCKET/PREFIX/NAME.hfbk")
                .hasLineCount(1);

        assertThat(run(
                        "restore",
                        good,
                        "--data-dir",
                        dir.resolve("d8").toString(),
                        "--backup-key",
                        key.toString(),
                        "--s3-endpoint",
                        "http://127.0.0.1:" + freePort()))
                .isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(err.toString())
                .contains(good + ": cannot reach S3 at http://127.0.0.1:")
                .hasLineCount(1);
    }

    /**
     * Scheduled backups into a bucket's prefix: each turn the leader uploads one, encrypted, and
     * the newest N of this cluster's objects stay; another cluster's object under the prefix is
     * left alone. The turns run on a ticker and a wall clock the test moves.
     */
    @Test
    void scheduledBackupsKeepTheNewestNOfThisClustersObjects() throws Exception {
        BackupKey key = BackupKey.read(newKey("schedule.key", false));
        String prefix = "s3://" + BUCKET + "/scheduled";
        AtomicLong nanos = new AtomicLong();
        MovedClock wall = new MovedClock(Instant.parse("2026-11-26T10:00:00Z"));
        ServerConfig config = ServerConfig.single(dir.resolve("node"), "127.0.0.1", freePort(), freePort(), -1);
        try (HoldfastServer node = HoldfastServer.start(config);
                LockClient client = LockClient.open("holdfast://127.0.0.1:" + node.clientPort())) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
            client.lock("s3/scheduled").acquire(Duration.ofSeconds(5));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> node.status().clusterId() != null);
            UUID id = node.status().clusterId();
            Path other = s3.object(BUCKET, "scheduled/holdfast-" + UUID.randomUUID() + "-20200101T000000.000Z.hfbk");
            Files.createDirectories(other.getParent());
            Files.writeString(other, "another cluster's");
            S3Store store = S3Store.open(prefix, s3.endpoint(), null, S3ProxyProcess.credentials(), dir.resolve("up"));
            try (BackupSchedule schedule =
                    new BackupSchedule(node.parts(), Duration.ofHours(1), store, key, 2, nanos::get, wall, false)) {
                List<String> written = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    nanos.addAndGet(Duration.ofHours(1).toNanos());
                    wall.now = wall.now.plus(Duration.ofHours(1));
                    written.add(schedule.runDue().orElseThrow(() -> new AssertionError(s3Log())));
                }
                assertThat(schedule.failures()).isZero();
                assertThat(written.get(3)).isEqualTo(prefix + "/holdfast-" + id + "-20261126T140000.000Z.hfbk");
                try (S3Store look = S3Store.open(prefix, s3.endpoint(), null, S3ProxyProcess.credentials(), dir)) {
                    assertThat(look.list("holdfast-" + id))
                            .as("the newest two of this cluster's")
                            .containsExactlyInAnyOrder(
                                    "holdfast-" + id + "-20261126T130000.000Z.hfbk",
                                    "holdfast-" + id + "-20261126T140000.000Z.hfbk");
                    assertThat(look.list("holdfast-"))
                            .as("another cluster's object is left alone")
                            .hasSize(3);
                    BackupFile.Verified newest =
                            StoredBackups.load(look, "holdfast-" + id + "-20261126T140000.000Z.hfbk", key, dir);
                    assertThat(newest.header().clusterId()).isEqualTo(id);
                    assertThat(newest.table().describe("s3/scheduled", 0)).isPresent();
                }
            }
        }
    }

    private static String s3Log() {
        try {
            return s3.log();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    /** The snapshot form of an empty table: a real backup, made without a node. */
    private static byte[] emptyTable() throws Exception {
        io.holdfast.core.LockTable table = new io.holdfast.core.LockTable();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        table.writeSnapshot(bytes);
        return bytes.toByteArray();
    }

    /** {@code holdfast restore FROM --data-dir INTO --backup-key KEY --s3-endpoint ENDPOINT} under {@code env}. */
    private int restore(Map<String, String> env, String from, String into, Path key, String endpoint) {
        return run(env, "restore", from, "--data-dir", into, "--backup-key", key.toString(), "--s3-endpoint", endpoint);
    }
}
