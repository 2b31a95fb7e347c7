package io.holdfast.server.storage;

import io.holdfast.internal.Causes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServerConfigKeys.Log.CorruptionPolicy;
import org.apache.ratis.server.raftlog.segmented.LogSegment;
import org.apache.ratis.server.raftlog.segmented.LogSegmentPath;
import org.apache.ratis.server.raftlog.segmented.LogSegmentStartEnd;
import org.apache.ratis.server.raftlog.segmented.SegmentedRaftLogFormat;
import org.apache.ratis.thirdparty.com.google.protobuf.CodedOutputStream;
import org.apache.ratis.util.PureJavaCrc32C;
import org.apache.ratis.util.SizeInBytes;

/**
 * Reads a node's Raft log before Ratis opens it: repairs a torn write at the very end of the log,
 * and refuses, in one line, any other damage.
 *
 * <p>Ratis runs with {@code CorruptionPolicy.EXCEPTION}, so it refuses every damaged entry, and
 * it would refuse a log that only ends in a write the crash interrupted. Its other policy ({@code
 * WARN_AND_RETURN}) drops everything from the first bad entry of any segment on, which can drop
 * acknowledged writes. This check sits between the two.
 *
 * <p>The format (Ratis's {@code SegmentedRaftLogFormat}): a segment file is the header {@code
 * RaftLog1}, then per entry a varint32 length, that many bytes of {@code LogEntryProto} and a
 * 4-byte CRC32C of the length and the bytes; a run of zero bytes up to the end of the file is
 * preallocated space. The entries are read with Ratis's own reader ({@link
 * LogSegment#readSegmentFile}); only the bytes after the last entry it accepts are examined here.
 *
 * <p><b>Contract: what counts as a torn tail.</b> The log is repaired only when all of these
 * hold, and refused otherwise:
 *
 * <ol>
 *   <li>the damage is in the open segment ({@code log_inprogress_<start>}) and that segment is the
 *       last segment of the log: no segment starts after it;
 *   <li>the segment's header is intact, and Ratis's reader accepts every entry from the header up
 *       to byte offset {@code G}, and fails on the entry that starts at {@code G} (the torn entry);
 *   <li>the torn entry has the mark of a write that stopped part-way into Ratis's zero-filled
 *       preallocated space: its length prefix is readable (1 to the largest entry Ratis reads), it
 *       lies wholly inside the file, and its stored checksum is {@code 00000000} while its
 *       contents' checksum is not. (A CRC32C of real data is zero once in 2<sup>32</sup>; a bit flip
 *       in a whole entry leaves a non-zero checksum, and is refused.)
 *   <li>nothing valid follows it: at no byte offset after {@code G} up to the end of the file does
 *       a complete entry frame start (a length prefix of 1 to the largest entry, the frame inside
 *       the file, and a matching checksum). Zeros and fragments of entries are allowed.
 * </ol>
 *
 * <p>Why this is safe: appends are fsynced before a write is acknowledged, and an fsync makes
 * every byte written before it durable. An entry whose checksum is still the preallocated zeros
 * was never wholly on disk, so no fsync completed after it was written, so neither it nor
 * anything after it was acknowledged. The repair truncates the file at {@code G} (and forces it
 * to disk); Ratis then starts from the entries before. A node with {@code --no-fsync} has no such
 * guarantee either way.
 *
 * <p>Ratis itself already ignores the two mildest tears, and this check leaves them to it: an
 * entry whose frame runs past the end of the file, and a header cut short into zeros.
 */
public final class RaftLogCheck {
    /** A repaired torn tail: {@code file} was cut at byte {@code offset}, dropping the entries from {@code index}. */
    public record Repair(Path file, long offset, long index, long bytesDropped) {}

    /** The log is damaged in a way that is not a torn tail; the message is one line naming the file. */
    public static final class Damaged extends Exception {
        private static final long serialVersionUID = 1L;

        Damaged(String message) {
            super(message);
        }
    }

    /**
     * Upper bound on the bytes checksummed while looking for a valid entry after a torn one; past
     * it, the tail is too large to tell and the log is refused (refusing is always safe).
     */
    private static final long SCAN_BUDGET_BYTES = 1L << 30;

    private RaftLogCheck() {}

    /**
     * Checks every segment in {@code <groupDir>/current} and repairs a torn tail of the open one.
     *
     * @param groupDir the group's storage directory ({@code <data-dir>/raft/<group-id>})
     * @param maxEntry the largest entry Ratis reads ({@code raft.server.log.appender.buffer.byte-limit})
     * @return the repair made, if any
     * @throws Damaged for damage that is not a torn tail
     */
    public static Optional<Repair> checkAndRepair(Path groupDir, SizeInBytes maxEntry) throws Damaged, IOException {
        List<Segment> segments = new ArrayList<>();
        for (LogSegmentPath segment : segments(groupDir)) {
            segments.add(Segment.of(segment));
        }
        segments.sort(Comparator.comparingLong(Segment::start));
        Repair repair = null;
        for (int i = 0; i < segments.size(); i++) {
            boolean lastAndOpen = i == segments.size() - 1 && segments.get(i).open();
            Repair r = check(segments.get(i), lastAndOpen, maxEntry);
            if (r != null) {
                repair = r;
            }
        }
        return Optional.ofNullable(repair);
    }

    /** The segment files of the log in {@code <groupDir>/current}, in no order; none without the directory. */
    public static List<LogSegmentPath> segments(Path groupDir) throws IOException {
        Path current = groupDir.resolve("current");
        List<LogSegmentPath> segments = new ArrayList<>();
        if (Files.isDirectory(current)) {
            try (Stream<Path> files = Files.list(current)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    LogSegmentPath segment = LogSegmentPath.matchLogSegment(p);
                    if (segment != null) {
                        segments.add(segment);
                    }
                }
            }
        }
        return segments;
    }

    private static Repair check(Segment segment, boolean repairable, SizeInBytes maxEntry) throws Damaged, IOException {
        Path path = segment.path();
        LogSegmentStartEnd startEnd = segment.startEnd();
        if (!headerIntact(path, segment.open())) {
            // Cut short into zeros: Ratis reads it as a segment without entries.
            return null;
        }
        long[] good = {SegmentedRaftLogFormat.getHeaderLength(), 0, segment.start() - 1};
        IOException failure = null;
        try {
            LogSegment.readSegmentFile(path.toFile(), startEnd, maxEntry, CorruptionPolicy.EXCEPTION, null, e -> {
                int size = e.getSerializedSize();
                good[0] += CodedOutputStream.computeUInt32SizeNoTag(size) + size + 4;
                good[1]++;
                good[2] = e.getIndex();
            });
        } catch (IOException e) {
            failure = e;
        } catch (RuntimeException e) {
            throw damaged(path, "its entries do not follow one another (" + Causes.rootMessage(e) + ")");
        }
        long goodEnd = good[0];
        long lastIndex = good[2];
        if (failure == null) {
            if (!segment.open() && good[1] != segment.end() - segment.start() + 1) {
                throw damaged(
                        path,
                        "it holds " + good[1] + " entries where its name says "
                                + (segment.end() - segment.start() + 1));
            }
            return null;
        }
        String where = "at byte " + goodEnd + " (entry " + (lastIndex + 1) + ")";
        String reason = Causes.rootMessage(failure);
        if (!repairable) {
            throw damaged(
                    path,
                    (segment.open() ? "an open segment that is not the last one" : "a closed segment") + " is damaged "
                            + where + ": " + reason);
        }
        long length = Files.size(path);
        if (length - goodEnd > Integer.MAX_VALUE - 8) {
            throw damaged(path, "damaged " + where + ", and its tail is too large to examine: " + reason);
        }
        byte[] tail = new byte[(int) (length - goodEnd)];
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.wrap(tail);
            while (buf.hasRemaining()) {
                if (ch.read(buf, goodEnd + buf.position()) < 0) {
                    throw damaged(path, "it changed while it was being read");
                }
            }
        }
        int max = maxEntry.getSizeInt();
        Frame torn = Frame.at(tail, 0, max);
        if (torn == null) {
            throw damaged(path, "damaged " + where + ", not by a torn write (no readable entry there): " + reason);
        }
        if (torn.storedChecksum() != 0 || torn.valid()) {
            throw damaged(
                    path,
                    "damaged " + where + ", not by a torn write (the entry's checksum is written, "
                            + String.format("%08X", torn.storedChecksum()) + "): " + reason);
        }
        long budget = SCAN_BUDGET_BYTES;
        for (int off = 1; off < tail.length; off++) {
            if (tail[off] == 0) {
                continue; // zero cannot start an entry: its length would be 0
            }
            Frame f = Frame.at(tail, off, max);
            if (f == null) {
                continue;
            }
            budget -= f.checksummedLength();
            if (budget < 0) {
                throw damaged(path, "damaged " + where + ", and too much follows it to tell a torn write: " + reason);
            }
            if (f.valid()) {
                throw damaged(
                        path,
                        "damaged " + where + ", and a valid entry follows at byte " + (goodEnd + off)
                                + ", so it is not a torn write at the end: " + reason);
            }
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.truncate(goodEnd);
            ch.force(true);
        }
        return new Repair(path, goodEnd, lastIndex + 1, tail.length);
    }

    /**
     * Whether the header is there: true if it matches, false if it was cut short into zeros (as
     * Ratis's reader says); else the segment is refused.
     */
    private static boolean headerIntact(Path path, boolean open) throws Damaged, IOException {
        int headerLength = SegmentedRaftLogFormat.getHeaderLength();
        byte[] header = new byte[headerLength];
        int read = 0;
        try (InputStream in = Files.newInputStream(path)) {
            while (read < headerLength) {
                int n = in.read(header, read, headerLength - read);
                if (n < 0) {
                    break;
                }
                read += n;
            }
        }
        int match = SegmentedRaftLogFormat.matchHeader(header, 0, read);
        if (read == headerLength && match == headerLength) {
            return true;
        }
        if (open && SegmentedRaftLogFormat.isTerminator(header, match, read - match)) {
            return false;
        }
        throw damaged(path, "its header is not Ratis's log header (" + read + " bytes, " + match + " matching)");
    }

    /**
     * A segment file: Ratis's name for it (which its reader takes) and what the name says, read
     * here because Ratis keeps those getters to itself: {@code log_inprogress_<start>} (open) or
     * {@code log_<start>-<end>} (closed).
     */
    private record Segment(Path path, LogSegmentStartEnd startEnd, long start, long end, boolean open) {
        private static final Pattern OPEN = Pattern.compile("log_inprogress_(\\d+)");
        private static final Pattern CLOSED = Pattern.compile("log_(\\d+)-(\\d+)");

        static Segment of(LogSegmentPath s) {
            String name = s.getPath().getFileName().toString();
            Matcher m = OPEN.matcher(name);
            if (m.matches()) {
                return new Segment(s.getPath(), s.getStartEnd(), Long.parseLong(m.group(1)), -1, true);
            }
            m = CLOSED.matcher(name);
            if (m.matches()) {
                return new Segment(
                        s.getPath(), s.getStartEnd(), Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), false);
            }
            throw new IllegalStateException(
                    "Ratis named " + name + " a log segment, but it is neither open nor closed");
        }
    }

    private static Damaged damaged(Path file, String what) {
        return new Damaged("the Raft log is damaged and was left as it is: " + file + ": " + what);
    }

    /** One entry frame decoded at an offset of a buffer: length prefix, entry, checksum. */
    private record Frame(int checksummedLength, int storedChecksum, int computedChecksum) {
        boolean valid() {
            return storedChecksum == computedChecksum;
        }

        /** The frame at {@code off}, or null if no frame of 1 to {@code max} bytes fits there. */
        static Frame at(byte[] b, int off, int max) {
            long length = 0;
            int p = off;
            for (int shift = 0; ; shift += 7) {
                if (p >= b.length || shift > 28) {
                    return null;
                }
                int x = b[p++];
                length |= (long) (x & 0x7F) << shift;
                if ((x & 0x80) == 0) {
                    break;
                }
            }
            if (length < 1 || length > max || p + length + 4 > b.length) {
                return null;
            }
            int end = (int) (p + length);
            PureJavaCrc32C crc = new PureJavaCrc32C();
            crc.update(b, off, end - off);
            int stored = ((b[end] & 0xFF) << 24)
                    | ((b[end + 1] & 0xFF) << 16)
                    | ((b[end + 2] & 0xFF) << 8)
                    | (b[end + 3] & 0xFF);
            return new Frame(end - off, stored, (int) crc.getValue());
        }
    }
}
