package io.holdfast.server.raft;

import io.holdfast.core.LockTable;
import io.holdfast.core.SnapshotOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A table's snapshot form streamed into a new file ({@link LockTable#writeSnapshot(SnapshotOutput)}): a snapshot
 * and a backup's copy of the table are written so, without a copy of the table's form in memory.
 *
 * <p>Guaranteed: the file holds the same bytes as {@link LockTable#writeSnapshot(java.io.OutputStream)} writes. Not
 * guaranteed: that it is on disk (a snapshot forces it, a backup's copy, read back at once, need not);  a whole
 * file after a failure (the caller writes a temporary file and deletes or replaces it).
 */
public final class FileSnapshotOutput implements SnapshotOutput {
    private final FileChannel file;
    private final OutputStream stream;

    private FileSnapshotOutput(FileChannel file) {
        this.file = file;
        this.stream = Channels.newOutputStream(file);
    }

    /** Writes the table's snapshot form into {@code path} (created or emptied). */
    public static void write(LockTable table, Path path) throws IOException {
        try (FileChannel file = FileChannel.open(
                path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            table.writeSnapshot(new FileSnapshotOutput(file));
        }
    }

    @Override
    public OutputStream stream() {
        return stream;
    }

    @Override
    public void patchInt(long offset, int value) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(4).putInt(value).flip();
        while (bytes.hasRemaining()) {
            file.write(bytes, offset + bytes.position());
        }
    }
}
