package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.holdfast.server.config.RaftSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.LogProtoUtils;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.raftlog.segmented.SegmentedRaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Ratis's segmented log, driven as a follower's log is when a leader sends it a snapshot that its
 * log already ran past: the writer's failure behind real bug 9 (docs/verification.md), reproduced
 * at the log, without a cluster.
 *
 * <p>{@code SegmentedRaftLog.onSnapshotInstalled} resets the log writer's last written index to
 * the snapshot's, but keeps the entries after it in its cache; the next append is one past the
 * cache's end, not past the writer's, and the writer fails ({@code lastWrittenIndex == 431, entry ==
 * … index: 460}). In a node Ratis then closes the division and the node halts. Holdfast keeps a
 * leader from sending such a snapshot: its purge keeps the last half snapshot-interval of the log
 * ({@link RaftSettings}, {@code SnapshotInstallTest}), so a follower that gets a snapshot is always
 * behind its index. If a Ratis upgrade fixes the writer, the first test fails and says so.
 */
class SnapshotBelowLogEndTest {
    private static final long TERM = 3;

    @TempDir
    Path dir;

    @Test
    void aSnapshotInstalledBelowTheLogsLastEntryFailsTheWriterAtTheNextAppend() throws Exception {
        ListAppender<ILoggingEvent> ratis = capture();
        try (SegmentedRaftLog log = openLog()) {
            appendUpTo(log, 459);
            log.onSnapshotInstalled(431).get(10, TimeUnit.SECONDS);

            CompletableFuture<Long> next = log.appendEntry(entry(460));

            await("the log writer's failure")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> errors(ratis).stream().anyMatch(m -> m.contains("lastWrittenIndex == 431")));
            assertThat(errors(ratis))
                    .anySatisfy(m ->
                            assertThat(m).contains("lastWrittenIndex == 431").contains("index: 460"));
            assertThat(next).as("the append is never written").isNotDone();
        } finally {
            release(ratis);
        }
    }

    /** The control: a snapshot at the log's last entry (what Ratis's own tests install) is fine. */
    @Test
    void aSnapshotAtTheLogsLastEntryLeavesTheWriterWell() throws Exception {
        ListAppender<ILoggingEvent> ratis = capture();
        try (SegmentedRaftLog log = openLog()) {
            appendUpTo(log, 459);
            log.onSnapshotInstalled(459).get(10, TimeUnit.SECONDS);

            assertThat(log.appendEntry(entry(460)).get(20, TimeUnit.SECONDS)).isEqualTo(460);
            assertThat(errors(ratis)).noneMatch(m -> m.contains("lastWrittenIndex"));
        } finally {
            release(ratis);
        }
    }

    private SegmentedRaftLog openLog() throws Exception {
        RaftProperties properties = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(properties, List.of(dir.toFile()));
        RaftStorage storage = RaftStorage.newBuilder()
                .setDirectory(dir.toFile())
                .setOption(RaftStorage.StartupOption.RECOVER)
                .setStorageFreeSpaceMin(SizeInBytes.valueOf(0))
                .build();
        storage.initialize();
        SegmentedRaftLog log = SegmentedRaftLog.newBuilder()
                .setMemberId(RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n1"), RaftGroupId.randomId()))
                .setStorage(storage)
                .setProperties(properties)
                .build();
        log.open(RaftLog.INVALID_LOG_INDEX, null);
        return log;
    }

    private static void appendUpTo(SegmentedRaftLog log, long last) throws Exception {
        for (long i = 0; i <= last; i++) {
            log.appendEntry(entry(i)).get(10, TimeUnit.SECONDS);
        }
    }

    private static LogEntryProto entry(long index) {
        StateMachineLogEntryProto command = StateMachineLogEntryProto.newBuilder()
                .setLogData(ByteString.copyFrom("entry " + index, StandardCharsets.UTF_8))
                .build();
        return LogProtoUtils.toLogEntryProto(command, TERM, index);
    }

    /** The messages (and their causes') of the ERROR events Ratis logged so far. */
    private static List<String> errors(ListAppender<ILoggingEvent> appender) {
        synchronized (appender) {
            return appender.list.stream()
                    .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR)
                    .map(e -> e.getFormattedMessage() + " "
                            + (e.getThrowableProxy() == null
                                    ? ""
                                    : e.getThrowableProxy().getMessage()))
                    .toList();
        }
    }

    private static ListAppender<ILoggingEvent> capture() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger("org.apache.ratis")).addAppender(appender);
        return appender;
    }

    private static void release(ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger("org.apache.ratis")).detachAppender(appender);
    }
}
