package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.holdfast.ClientOptions;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.BackupSchedule;
import io.holdfast.testkit.MovedClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Scheduled backups ({@link BackupSchedule}) on a moved ticker and clock: nothing before the turn,
 * one backup per turn named with the cluster id and the time, the newest N kept, a follower's turn
 * skipped, and a failure logged and counted without stopping anything.
 */
class BackupScheduleTest {
    @TempDir
    Path dir;

    private final AtomicLong nanos = new AtomicLong(1_000);
    private final MovedClock wall = new MovedClock(Instant.parse("2026-11-26T10:00:00Z"));

    private void move(Duration d) {
        nanos.addAndGet(d.toNanos());
        wall.now = wall.now.plus(d);
    }

    @Test
    void eachTurnTheLeaderWritesABackupAndTheNewestNStay() throws Exception {
        ListAppender<ILoggingEvent> log = capture();
        try (TestCluster c = new TestCluster(1)) {
            HoldfastServer node = c.node(c.awaitLeader(Duration.ofSeconds(20)));
            c.open(ClientOptions.defaults()).lock("s/held").acquire(Duration.ofSeconds(10));
            UUID id = BackupRestoreTest.awaitClusterId(node);
            Path backups = dir.resolve("backups");
            Files.createDirectories(backups);
            Files.writeString(backups.resolve("holdfast-" + UUID.randomUUID() + "-20200101T000000.000Z.hfbk"), "x");
            BackupSchedule schedule =
                    new BackupSchedule(node.parts(), Duration.ofHours(1), backups, 2, nanos::get, wall, false);

            move(Duration.ofMinutes(59));
            assertThat(schedule.runDue()).as("not yet its turn").isEmpty();
            for (int i = 0; i < 4; i++) {
                move(Duration.ofMinutes(i == 0 ? 1 : 60));
                Optional<String> written = schedule.runDue();
                assertThat(written).as("turn " + i).isPresent();
                assertThat(schedule.runDue()).as("once per turn").isEmpty();
            }

            assertThat(schedule.taken()).isEqualTo(4);
            assertThat(schedule.failures()).isZero();
            assertThat(mine(backups, id))
                    .as("the newest two of this cluster's, named with its id and the time")
                    .containsExactly(
                            "holdfast-" + id + "-20261126T130000.000Z.hfbk",
                            "holdfast-" + id + "-20261126T140000.000Z.hfbk");
            try (Stream<Path> all = Files.list(backups)) {
                assertThat(all.count())
                        .as("another cluster's file is left alone")
                        .isEqualTo(3);
            }
            BackupFile.Verified read =
                    BackupFile.read(backups.resolve(mine(backups, id).get(1)));
            assertThat(read.header().clusterId()).isEqualTo(id);
            assertThat(read.header().takenAtMillis()).isEqualTo(wall.now.toEpochMilli());
            assertThat(read.table().describe("s/held", 0)).isPresent();
            assertThat(log.list)
                    .filteredOn(e -> e.getFormattedMessage().startsWith("Scheduled backup " + backups))
                    .hasSize(4)
                    .allSatisfy(e -> assertThat(e.getFormattedMessage())
                            .contains(" bytes ")
                            .contains(" ms "));

            // A failure (the directory is gone, a file in its place) is logged and counted; the next
            // turn tries again, and the node serves throughout.
            BackupSchedule broken = new BackupSchedule(
                    node.parts(), Duration.ofHours(1), dir.resolve("a-file"), 2, nanos::get, wall, false);
            Files.writeString(dir.resolve("a-file"), "not a directory");
            move(Duration.ofHours(1));
            assertThat(broken.runDue()).isEmpty();
            assertThat(broken.failures()).isEqualTo(1);
            assertThat(log.list)
                    .filteredOn(e -> e.getLevel() == Level.WARN)
                    .extracting(ILoggingEvent::getFormattedMessage)
                    .singleElement()
                    .asString()
                    .startsWith("Scheduled backup into " + dir.resolve("a-file") + " failed (1 failure so far): ")
                    .doesNotContain("\n");
            assertThat(node.isLeader()).isTrue();
            assertThat(c.open(ClientOptions.defaults())
                            .lock("s/after")
                            .acquire(Duration.ofSeconds(10))
                            .fencingToken())
                    .isPositive();
        } finally {
            release(log);
        }
    }

    @Test
    void aFollowersTurnIsSkipped() throws Exception {
        try (TestCluster c = new TestCluster(3)) {
            int leader = c.awaitLeader(Duration.ofSeconds(20));
            HoldfastServer follower = c.node((leader + 1) % 3);
            Path backups = dir.resolve("f");
            Files.createDirectories(backups);
            BackupSchedule schedule =
                    new BackupSchedule(follower.parts(), Duration.ofMinutes(5), backups, 3, nanos::get, wall, false);
            move(Duration.ofMinutes(5));
            assertThat(schedule.runDue()).isEmpty();
            assertThat(schedule.taken()).isZero();
            assertThat(schedule.failures()).isZero();
            try (Stream<Path> files = Files.list(backups)) {
                assertThat(files.count()).isZero();
            }
        }
    }

    /** This cluster's backups in {@code dir}, oldest first. */
    private static List<String> mine(Path dir, UUID id) throws java.io.IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("holdfast-" + id + "-"))
                    .sorted()
                    .toList();
        }
    }

    private static ListAppender<ILoggingEvent> capture() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Logger logger = (Logger) LoggerFactory.getLogger(BackupSchedule.class);
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);
        return appender;
    }

    private static void release(ListAppender<ILoggingEvent> appender) {
        Logger logger = (Logger) LoggerFactory.getLogger(BackupSchedule.class);
        logger.detachAppender(appender);
        logger.setLevel(null);
    }
}
