package io.holdfast.core;

import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.TableDriver.Client;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot written into a file streams its body: the node writes one while nothing is applied, and a body
 * built in memory first (a growing buffer, then a copy of it) allocated three times the snapshot's size at once.
 * At 1,000,000 held locks (118 MB) that filled the old generation of three servers with 2 GB heaps, each paused
 * 1.8 to 2.7 s in a full collection as it snapshotted, and the leader lost its leadership.
 */
class SnapshotStreamTest {
    private static final int SESSIONS = 100;
    private static final int LOCKS_PER_SESSION = 200;

    @Test
    void aSnapshotStreamedIntoAFileHasTheSameBytesAndNoCopyOfItsBodyInMemory(@TempDir Path dir) throws Exception {
        TableDriver d = new TableDriver();
        for (int s = 0; s < SESSIONS; s++) {
            Client c = d.open("client-" + s);
            for (int i = 0; i < LOCKS_PER_SESSION; i++) {
                token(c.acquire("orders/" + (s * LOCKS_PER_SESSION + i)).apply());
            }
        }
        byte[] expected = TableDriver.snapshotOf(d.table());
        write(d.table(), dir.resolve("warm-up")); // class loading and the JIT allocate too: not the write's own

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(thread);
        write(d.table(), dir.resolve("snapshot"));
        long allocated = threads.getThreadAllocatedBytes(thread) - before;

        byte[] written = Files.readAllBytes(dir.resolve("snapshot"));
        assertThat(written).as("the bytes of the snapshot form").isEqualTo(expected);
        assertThat(LockTable.readSnapshot(new ByteArrayInputStream(written)).resourceCount())
                .isEqualTo(SESSIONS * LOCKS_PER_SESSION);
        assertThat(allocated)
                .as(
                        "bytes allocated to write a snapshot of %,d bytes (a copy of its body takes as many)",
                        written.length)
                .isLessThan(written.length);
    }

    /** Streams the snapshot into a file as a node does: through the file's channel, the length patched in place. */
    private static void write(LockTable table, Path file) throws Exception {
        try (FileChannel ch = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            OutputStream stream = Channels.newOutputStream(ch);
            table.writeSnapshot(new SnapshotOutput() {
                @Override
                public OutputStream stream() {
                    return stream;
                }

                @Override
                public void patchInt(long offset, int value) throws IOException {
                    ByteBuffer bytes = ByteBuffer.allocate(4).putInt(value).flip();
                    while (bytes.hasRemaining()) {
                        ch.write(bytes, offset + bytes.position());
                    }
                }
            });
        }
    }
}
