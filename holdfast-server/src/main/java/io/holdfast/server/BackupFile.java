package io.holdfast.server;

import io.holdfast.InvalidArgumentException;
import io.holdfast.core.LockTable;
import io.holdfast.model.TableCopy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.CRC32;

/**
 * The backup file: a {@link TableCopy} as {@code holdfast backup} writes it and {@code holdfast
 * restore} reads it.
 *
 * <p>The file: the magic {@code HFBK}, the format version ({@value #FORMAT}), the log index and term
 * of the last entry applied, when it was taken (milliseconds since the epoch, for people), the
 * table's own snapshot form (checked by its own CRC), and a CRC-32 of everything before it. A file
 * that is truncated, changed or of another format is refused with one line naming what is wrong;
 * nothing is restored from it.
 */
public final class BackupFile {
    /** The first bytes of every backup file: "HFBK". */
    static final int MAGIC = 0x4846424B;
    /** The version of the file format this build writes and reads. */
    public static final int FORMAT = 1;

    private BackupFile() {}

    /** Writes {@code copy} to {@code file} atomically (a temporary file, synced, then renamed). */
    public static void write(TableCopy copy, Path file) throws IOException {
        long index = copy.index();
        long term = copy.term();
        long takenAtMillis = copy.takenAtMillis();
        byte[] table = copy.table();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(table.length + 64);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MAGIC);
        out.writeInt(FORMAT);
        out.writeLong(index);
        out.writeLong(term);
        out.writeLong(takenAtMillis);
        out.writeInt(table.length);
        out.write(table);
        CRC32 crc = new CRC32();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        out.flush();
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(bytes.toByteArray()));
                channel.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads and checks a backup file: format, checksum, and that the table in it loads.
     *
     * @throws InvalidArgumentException naming what is wrong with the file, in one line
     */
    public static TableCopy read(Path file) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidArgumentException("no backup file " + file);
        }
        if (all.length < 40) {
            throw new InvalidArgumentException(file + " is no Holdfast backup (" + all.length + " bytes)");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all));
        if (in.readInt() != MAGIC) {
            throw new InvalidArgumentException(file + " is no Holdfast backup (it does not start with HFBK)");
        }
        int format = in.readInt();
        if (format != FORMAT) {
            throw new InvalidArgumentException(
                    file + " is a backup in format " + format + "; this build reads format " + FORMAT);
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
        long index = in.readLong();
        long term = in.readLong();
        long takenAt = in.readLong();
        int length = in.readInt();
        if (length < 0 || length != all.length - 40) {
            throw new InvalidArgumentException(file + " is damaged (the table's length does not match the file's)");
        }
        byte[] table = new byte[length];
        in.readFully(table);
        TableCopy copy = new TableCopy(index, term, takenAt, table);
        lockTable(copy); // refuses a table that does not load
        return copy;
    }

    /** The table in the copy. */
    public static LockTable lockTable(TableCopy copy) throws IOException {
        try (InputStream in = new ByteArrayInputStream(copy.table())) {
            return LockTable.readSnapshot(in);
        } catch (io.holdfast.core.SnapshotFormatException e) {
            throw new InvalidArgumentException("the lock table in the backup does not load: " + e.getMessage());
        }
    }
}
