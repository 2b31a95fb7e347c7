package io.holdfast.server.backup;

import io.holdfast.InvalidArgumentException;
import io.holdfast.core.LockTable;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * The backup file: a cluster's lock table as {@code holdfast backup} and scheduled backups write
 * it, and {@code holdfast restore} reads it. The file is written as a stream (the table is never
 * whole in memory on the way), so its size has no ceiling but the disk's.
 *
 * <p>The file (format {@value #FORMAT}): the magic {@code HFBK}, the format version, the log index
 * and term of the last entry applied, when it was taken (milliseconds since the epoch, for
 * people), the identity of the cluster it was taken from ({@code ClusterIdentity}; zero when the
 * cluster had none yet), the table's length and its own snapshot form, then a SHA-256 of every
 * byte before it. Format 1 (one message, a CRC-32 at the end) is read too.
 *
 * <p><b>Guarantees.</b> {@link #read} checks the whole file's SHA-256 before it looks at the table,
 * then that the table loads: a file that is truncated, changed, or of another format is refused
 * with one line naming what is wrong, and nothing is restored from it. A backup received over
 * the network ends with the checksum, so a transfer cut anywhere is refused too.
 *
 * <p><b>Not guaranteed.</b> The checksum detects damage, not forgery: anyone who can write the file
 * can write a matching checksum. Keep backups where only operators write.
 *
 * <p><b>Failure story.</b> A scheduled backup is copied to tape and one block comes back flipped.
 * {@code holdfast restore} reads it and stops with "… is damaged or truncated (its SHA-256 does
 * not match)", exit 64; the data directory is untouched, and the operator takes the previous one.
 */
public final class BackupFile {
    /** The first bytes of every backup file: "HFBK". */
    static final int MAGIC = 0x4846424B;
    /** The version of the file format this build writes. */
    public static final int FORMAT = 2;

    private static final int HEADER_BYTES = 4 + 4 + 8 * 6;
    private static final int SHA_BYTES = 32;

    private BackupFile() {}

    /**
     * What a backup file says of itself.
     *
     * @param index the log index of the last entry the table applied
     * @param term that entry's term
     * @param takenAtMillis when it was taken, by the leader's wall clock (for people only)
     * @param clusterId the identity of the cluster it was taken from, or null if it had none yet
     * @param tableBytes the length of the table's snapshot form
     */
    public record Header(long index, long term, long takenAtMillis, UUID clusterId, long tableBytes) {}

    /** A backup that was read and checked: its header and its table. */
    public record Verified(Header header, LockTable table) {}

    /**
     * Writes a backup to {@code out} as a stream: the header, the table's snapshot form copied from
     * {@code table} (exactly {@code header.tableBytes()} bytes), then the SHA-256 of all of it.
     * Does not close {@code out}.
     *
     * @return the bytes written
     */
    public static long write(Header header, InputStream table, OutputStream out) throws IOException {
        MessageDigest sha = sha256();
        DataOutputStream data = new DataOutputStream(new DigestOutputStream(out, sha));
        data.writeInt(MAGIC);
        data.writeInt(FORMAT);
        data.writeLong(header.index());
        data.writeLong(header.term());
        data.writeLong(header.takenAtMillis());
        data.writeLong(header.clusterId() == null ? 0 : header.clusterId().getMostSignificantBits());
        data.writeLong(header.clusterId() == null ? 0 : header.clusterId().getLeastSignificantBits());
        data.writeLong(header.tableBytes());
        byte[] buffer = new byte[1 << 16];
        long left = header.tableBytes();
        while (left > 0) {
            int n = table.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new EOFException("the table ended " + left + " bytes early");
            }
            data.write(buffer, 0, n);
            left -= n;
        }
        data.flush();
        out.write(sha.digest());
        out.flush();
        return HEADER_BYTES + header.tableBytes() + SHA_BYTES;
    }

    /** What writes a file's bytes. */
    public interface Writer {
        long writeTo(OutputStream out) throws IOException;
    }

    /** Runs {@code writer} into a temporary file next to {@code file}, syncs it, and renames it. */
    static long writeAtomically(Path file, Writer writer) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            long written;
            try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE);
                    OutputStream out = new java.io.BufferedOutputStream(
                            java.nio.channels.Channels.newOutputStream(channel), 1 << 16)) {
                written = writer.writeTo(out);
                out.flush();
                channel.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return written;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Checks a backup file's format and checksum, without loading its table.
     *
     * @throws InvalidArgumentException naming what is wrong with the file, in one line
     */
    public static Header check(Path file) throws IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new InvalidArgumentException("no backup file " + file);
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            DataInputStream data = new DataInputStream(in);
            if (size < 8 || data.readInt() != MAGIC) {
                throw new InvalidArgumentException(file + " is no Holdfast backup (it does not start with HFBK)");
            }
            int format = data.readInt();
            if (format == 1) {
                return checkFormat1(file).header();
            }
            if (format != FORMAT) {
                throw new InvalidArgumentException(
                        file + " is a backup in format " + format + "; this build reads formats 1 and " + FORMAT);
            }
            if (size < HEADER_BYTES + SHA_BYTES) {
                throw damaged(file);
            }
            MessageDigest sha = sha256();
            ByteUtil.updateInt(sha, MAGIC);
            ByteUtil.updateInt(sha, format);
            byte[] buffer = new byte[1 << 16];
            long left = size - 8 - SHA_BYTES;
            byte[] headerRest = new byte[HEADER_BYTES - 8];
            data.readFully(headerRest);
            sha.update(headerRest);
            left -= headerRest.length;
            while (left > 0) {
                int n = data.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw damaged(file);
                }
                sha.update(buffer, 0, n);
                left -= n;
            }
            byte[] stored = data.readNBytes(SHA_BYTES);
            if (!Arrays.equals(stored, sha.digest())) {
                throw damaged(file);
            }
            DataInputStream h = new DataInputStream(new ByteArrayInputStream(headerRest));
            long index = h.readLong();
            long term = h.readLong();
            long takenAt = h.readLong();
            long most = h.readLong();
            long least = h.readLong();
            long tableBytes = h.readLong();
            if (tableBytes != size - HEADER_BYTES - SHA_BYTES) {
                throw new InvalidArgumentException(file + " is damaged (the table's length does not match the file's)");
            }
            return new Header(index, term, takenAt, most == 0 && least == 0 ? null : new UUID(most, least), tableBytes);
        } catch (EOFException e) {
            throw damaged(file);
        }
    }

    /**
     * Reads and checks a backup file: format and checksum first ({@link #check}), then that the
     * table in it loads.
     *
     * @throws InvalidArgumentException naming what is wrong with the file, in one line
     */
    public static Verified read(Path file) throws IOException {
        Header header = check(file);
        if (header.tableBytes() < 0) { // format 1
            return checkFormat1(file);
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            in.skipNBytes(HEADER_BYTES);
            return new Verified(header, load(new Bounded(in, header.tableBytes())));
        }
    }

    private static LockTable load(InputStream table) throws IOException {
        try {
            return LockTable.readSnapshot(table);
        } catch (io.holdfast.core.SnapshotFormatException e) {
            throw new InvalidArgumentException("the lock table in the backup does not load: " + e.getMessage());
        }
    }

    /** A format-1 file (one message, small enough to read whole), with tableBytes -1. */
    private static Verified checkFormat1(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 40) {
            throw new InvalidArgumentException(file + " is no Holdfast backup (" + all.length + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 4);
        int stored = ((all[all.length - 4] & 0xff) << 24)
                | ((all[all.length - 3] & 0xff) << 16)
                | ((all[all.length - 2] & 0xff) << 8)
                | (all[all.length - 1] & 0xff);
        if (stored != (int) crc.getValue()) {
            throw new InvalidArgumentException(file + " is damaged or truncated (its checksum does not match)");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, 8, all.length - 8));
        long index = in.readLong();
        long term = in.readLong();
        long takenAt = in.readLong();
        int length = in.readInt();
        if (length < 0 || length != all.length - 40) {
            throw new InvalidArgumentException(file + " is damaged (the table's length does not match the file's)");
        }
        LockTable table = load(new ByteArrayInputStream(all, 36, length));
        return new Verified(new Header(index, term, takenAt, null, -1), table);
    }

    private static InvalidArgumentException damaged(Path file) {
        return new InvalidArgumentException(file + " is damaged or truncated (its SHA-256 does not match)");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static final class ByteUtil {
        static void updateInt(MessageDigest sha, int v) {
            sha.update(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        }
    }

    /** At most {@code limit} bytes of a stream, and no close of it. */
    private static final class Bounded extends FilterInputStream {
        private long left;

        Bounded(InputStream in, long limit) {
            super(in);
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        @Override
        public void close() {}
    }
}
