package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.storage.DataDirectory;
import io.holdfast.server.storage.RaftLogCheck;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.thirdparty.com.google.protobuf.CodedOutputStream;
import org.apache.ratis.util.PureJavaCrc32C;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A node that crashed in the middle of a log write: a torn final entry of the open segment is cut
 * off and the node serves on; any other damage stops the start with one line ({@link RaftLogCheck}).
 *
 * <p>Each test writes acknowledged grants through a real node, stops it, damages its segment file
 * on disk as a crash (or a disk) would, and starts it again from the same data directory.
 */
class TornLogTailTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** An entry frame in a segment file: [start, end) in bytes. */
    private record Frame(long start, long end) {}

    @Test
    void aTornFinalEntryIsCutOffAndTheNodeServesWithTokensAboveEveryAcknowledgedOne() throws Exception {
        tornTailIsRepaired(false);
    }

    @Test
    void aTornFinalEntryFollowedByAFragmentOfTheNextIsCutOffToo() throws Exception {
        tornTailIsRepaired(true);
    }

    /**
     * Appends after the last (acknowledged) entry the next entry as an interrupted write leaves it
     * in Ratis's zero-filled preallocated space: its first half written, the rest, checksum
     * included, still zeros; with {@code fragment}, the start of one more entry after it, written
     * out of order before the crash.
     */
    private void tornTailIsRepaired(boolean fragment) throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            cluster.awaitLeader(WAIT);
            LockClient client = cluster.open(ClientOptions.defaults());
            long highest = 0;
            for (int i = 0; i < 5; i++) {
                Lease lease = client.lock("torn/" + i).acquire(Duration.ofSeconds(5));
                highest = Math.max(highest, lease.fencingToken());
                lease.release();
            }
            Lease held = client.lock("torn/held").acquire(Duration.ofSeconds(5));
            highest = Math.max(highest, held.fencingToken());
            Path data = cluster.config(0).dataDir();
            cluster.stop(0);

            Path segment = openSegment(data);
            List<Frame> frames = frames(segment);
            Frame last = frames.get(frames.size() - 1);
            LogEntryProto lastEntry = entry(segment, last);
            byte[] next = frame(
                    lastEntry.toBuilder().setIndex(lastEntry.getIndex() + 1).build());
            ByteArrayOutputStream torn = new ByteArrayOutputStream();
            torn.write(next, 0, next.length / 2);
            torn.write(new byte[next.length - next.length / 2]);
            if (fragment) {
                byte[] afterNext = frame(
                        lastEntry.toBuilder().setIndex(lastEntry.getIndex() + 2).build());
                torn.write(afterNext, 0, afterNext.length / 2);
            }
            torn.write(new byte[4096]);
            byte[] tail = torn.toByteArray();
            try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
                f.setLength(last.end());
                f.seek(last.end());
                f.write(tail);
            }

            ListAppender<ILoggingEvent> log = capture();
            try {
                cluster.start(0);
            } finally {
                release(log);
            }
            cluster.awaitLeader(WAIT);
            assertThat(log.list)
                    .map(ILoggingEvent::getFormattedMessage)
                    .filteredOn(m -> m.startsWith("Repaired a torn write"))
                    .singleElement()
                    .asString()
                    .contains(segment.toString() + " at byte " + last.end() + ",")
                    .contains("dropping " + tail.length + " bytes")
                    .contains("index " + (lastEntry.getIndex() + 1))
                    .doesNotContain("\n");
            assertThat(cluster.node(0).parts().metrics().scrape())
                    .contains("holdfast_log_tail_repairs_total{node=\"n1\"} 1.0");

            // Everything acknowledged before the crash is there, and new tokens go on above it.
            assertThat(client.admin().isCurrentHolder("torn/held", held.fencingToken()))
                    .isTrue();
            Lease after = client.lock("torn/after").acquire(Duration.ofSeconds(5));
            assertThat(after.fencingToken()).isGreaterThan(highest);

            // The repair is done once: the next start finds nothing to repair.
            cluster.stop(0);
            cluster.start(0);
            cluster.awaitLeader(WAIT);
            assertThat(cluster.node(0).parts().metrics().scrape())
                    .contains("holdfast_log_tail_repairs_total{node=\"n1\"} 0.0");
            assertThat(client.admin().isCurrentHolder("torn/after", after.fencingToken()))
                    .isTrue();
        }
    }

    @Test
    void anEntryDamagedInTheMiddleIsRefusedInOneLineAndTheLogIsLeftAsItIs() throws Exception {
        // The damage looks exactly like a torn entry (its checksum zeroed), but a valid entry follows.
        refused(
                data -> {
                    Path segment = openSegment(data);
                    List<Frame> frames = frames(segment);
                    assertThat(frames).hasSizeGreaterThanOrEqualTo(2);
                    zeroChecksum(segment, frames.get(frames.size() - 2));
                    return segment;
                },
                "a valid entry follows");
    }

    @Test
    void aFinalEntryWithAWrongChecksumIsRefused() throws Exception {
        // A flipped bit in the last entry, which was acknowledged: not the mark of a torn write.
        refused(
                data -> {
                    Path segment = openSegment(data);
                    List<Frame> frames = frames(segment);
                    Frame last = frames.get(frames.size() - 1);
                    flip(segment, (last.start() + last.end()) / 2);
                    return segment;
                },
                "not by a torn write");
    }

    @Test
    void aDamagedHeaderIsRefused() throws Exception {
        refused(
                data -> {
                    Path segment = openSegment(data);
                    flip(segment, 0);
                    return segment;
                },
                "its header is not Ratis's log header");
    }

    @Test
    void aTornLookingEntryInAClosedSegmentIsRefused() throws Exception {
        refused(
                data -> {
                    // Close the open segment as Ratis does when it rolls over to a new one: padding
                    // cut, renamed log_<start>-<end>. Ratis opens a new segment after it.
                    Path open = openSegment(data);
                    List<Frame> frames = frames(open);
                    Frame last = frames.get(frames.size() - 1);
                    long end = entry(open, last).getIndex();
                    try (RandomAccessFile f = new RandomAccessFile(open.toFile(), "rw")) {
                        f.setLength(last.end());
                    }
                    Path closed = open.resolveSibling("log_" + startIndex(open) + "-" + end);
                    Files.move(open, closed);
                    // Its last entry damaged as a torn write would leave it, but in a closed segment.
                    zeroChecksum(closed, last);
                    return closed;
                },
                "a closed segment");
    }

    private interface Damage {
        Path apply(Path data) throws Exception;
    }

    /** Writes grants, stops the node, damages its log, and expects the restart to be refused. */
    private void refused(Damage damage, String why) throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            cluster.awaitLeader(WAIT);
            LockClient client = cluster.open(ClientOptions.defaults());
            for (int i = 0; i < 20; i++) {
                client.lock("refused/" + i).acquire(Duration.ofSeconds(5)).release();
            }
            Path data = cluster.config(0).dataDir();
            cluster.stop(0);
            Path segment = damage.apply(data);
            byte[] before = Files.readAllBytes(segment);

            assertThatThrownBy(() -> cluster.start(0))
                    .isInstanceOf(StartupException.class)
                    .message()
                    .startsWith("the Raft log is damaged and was left as it is: " + segment)
                    .contains(why)
                    .doesNotContain("\n");
            assertThat(Files.readAllBytes(segment)).isEqualTo(before);
            // Refused again, the same way: nothing was repaired behind the refusal.
            assertThatThrownBy(() -> cluster.start(0))
                    .isInstanceOf(StartupException.class)
                    .hasMessageContaining(why);
        }
    }

    private static ListAppender<ILoggingEvent> capture() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(DataDirectory.class)).addAppender(appender);
        return appender;
    }

    private static void release(ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger(DataDirectory.class)).detachAppender(appender);
    }

    /** The segment files of the node's log, in index order. */
    static List<Path> segments(Path data) throws IOException {
        Path current = data.resolve("raft")
                .resolve(RaftSettings.GROUP_ID.getUuid().toString())
                .resolve("current");
        try (Stream<Path> files = Files.list(current)) {
            return files.filter(p -> p.getFileName().toString().startsWith("log_"))
                    .sorted((a, b) -> Long.compare(startIndex(a), startIndex(b)))
                    .toList();
        }
    }

    private static long startIndex(Path segment) {
        String name = segment.getFileName().toString();
        String digits = name.startsWith("log_inprogress_")
                ? name.substring("log_inprogress_".length())
                : name.substring("log_".length(), name.indexOf('-'));
        return Long.parseLong(digits);
    }

    static Path openSegment(Path data) throws IOException {
        List<Path> all = segments(data);
        Path last = all.get(all.size() - 1);
        assertThat(last.getFileName().toString()).startsWith("log_inprogress_");
        return last;
    }

    /** The entry frames of a segment, read with the format's own rules (header, varint, entry, CRC). */
    static List<Frame> frames(Path segment) throws IOException {
        byte[] b = Files.readAllBytes(segment);
        assertThat(new String(b, 0, 8, java.nio.charset.StandardCharsets.US_ASCII))
                .isEqualTo("RaftLog1");
        List<Frame> frames = new ArrayList<>();
        int p = 8;
        while (p < b.length && b[p] != 0) {
            int start = p;
            int length = 0;
            for (int shift = 0; ; shift += 7) {
                int x = b[p++];
                length |= (x & 0x7F) << shift;
                if ((x & 0x80) == 0) {
                    break;
                }
            }
            p += length + 4;
            frames.add(new Frame(start, p));
        }
        assertThat(frames).isNotEmpty();
        return frames;
    }

    private static LogEntryProto entry(Path segment, Frame frame) throws IOException {
        byte[] b = Arrays.copyOfRange(Files.readAllBytes(segment), (int) frame.start(), (int) frame.end() - 4);
        var in = org.apache.ratis.thirdparty.com.google.protobuf.CodedInputStream.newInstance(b);
        int length = in.readRawVarint32();
        return LogEntryProto.parseFrom(in.readRawBytes(length));
    }

    /** An entry as Ratis writes it: varint length, the entry, CRC32C of both. */
    private static byte[] frame(LogEntryProto entry) throws IOException {
        byte[] body = entry.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream coded = CodedOutputStream.newInstance(out);
        coded.writeUInt32NoTag(body.length);
        coded.writeRawBytes(body);
        coded.flush();
        PureJavaCrc32C crc = new PureJavaCrc32C();
        byte[] framed = out.toByteArray();
        crc.update(framed, 0, framed.length);
        int c = (int) crc.getValue();
        out.write(new byte[] {(byte) (c >>> 24), (byte) (c >>> 16), (byte) (c >>> 8), (byte) c});
        return out.toByteArray();
    }

    private static void zeroChecksum(Path segment, Frame frame) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.seek(frame.end() - 4);
            f.write(new byte[4]);
        }
    }

    private static void flip(Path segment, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x5A);
        }
    }
}
