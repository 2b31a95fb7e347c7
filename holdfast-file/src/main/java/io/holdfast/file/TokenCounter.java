package io.holdfast.file;

import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Backoffs;
import io.holdfast.store.Deadline;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * The counter file: the last fencing token handed out in the directory, as 20 decimal digits and a
 * newline, overwritten in place.
 *
 * <p>A new counter file is empty; the first grant seeds it with the current time in microseconds
 * since 1970 (the wall clock of the host that makes that grant) and counts up from there. So a store
 * whose directory was lost and created again still issues larger tokens than the old one did, as
 * long as the old one averaged fewer than one grant per microsecond (each grant costs a locked
 * read-modify-write, and with fsync a disk flush, so it cannot go near that) and the clock has not
 * been set back by more than that margin. A counter file deleted beside existing lock files is
 * refused instead ({@link Directory#open}), since restoring it is the better answer there.
 *
 * <p>Every grant in every process takes the next token while holding an exclusive OS lock on this
 * file, and the new value is forced to disk ({@code fdatasync}) before the grant is returned, so
 * tokens are strictly increasing across all names and processes and, with {@code fsync=true}, a
 * token is never handed out twice even across a power loss (the 21-byte write sits in the file's
 * first sector, which disks write whole). With {@code fsync=false} a power loss can roll the
 * counter back to an earlier value and reissue tokens.
 *
 * <p>The counter lock is also the directory's grant lock: whoever holds it may take lock files
 * and record holders, so that a fencing check made under it sees every grant complete or not at
 * all. It is held for microseconds (plus one {@code fdatasync}), never while waiting for a lock.
 */
final class TokenCounter {
    static final String FILE = "counter";
    private static final int WIDTH = 21;

    /** What runs while the counter is locked. */
    interface Body<T> {
        T run(TokenCounter counter) throws IOException;
    }

    private final FileChannel channel;
    private final boolean fsync;

    private TokenCounter(FileChannel channel, boolean fsync) {
        this.channel = channel;
        this.fsync = fsync;
    }

    /**
     * Creates an empty counter file unless one exists; atomic against other creators.
     *
     * @return whether this call created it
     */
    static boolean createIfMissing(Path file) throws IOException {
        try {
            Files.newByteChannel(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                    .close();
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * Opens the counter (never creating it: a missing counter means the directory is not there),
     * locks it exclusively, runs {@code body} and unlocks. Another process's lock is waited for
     * with short polls until the deadline.
     *
     * @throws UnavailableException if the lock is not free by the deadline
     */
    static <T> T withLock(Path file, boolean fsync, Deadline deadline, Body<T> body) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock lock = lock(channel, file, deadline);
            try {
                return body.run(new TokenCounter(channel, fsync));
            } finally {
                if (lock.isValid()) {
                    lock.release();
                }
            }
        }
    }

    private static FileLock lock(FileChannel channel, Path file, Deadline deadline) throws IOException {
        RetryPolicy pauses = Backoffs.counterFileLock();
        int tries = 0;
        while (true) {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return lock;
            }
            if (deadline.passed()) {
                throw new UnavailableException("file: the counter file " + file
                        + " stayed locked by another process for longer than the request timeout"
                        + " (is a process stopped while holding it?)");
            }
            sleep(pauses.delayBefore(++tries, () -> 0.0).toMillis());
        }
    }

    private static void sleep(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            // the I/O thread is never interrupted; keep the flag if someone does
            Thread.currentThread().interrupt();
        }
    }

    /** The last token handed out; for a new, empty counter, the seed (see above). */
    long current() throws IOException {
        long size = channel.size();
        if (size == 0) {
            Instant now = Instant.now();
            return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000L), now.getNano() / 1_000);
        }
        ByteBuffer buffer = ByteBuffer.allocate(WIDTH);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, buffer.position()) < 0) {
                break;
            }
        }
        String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
        if (size != WIDTH || text.length() != WIDTH || !text.matches("\\d{20}\n")) {
            throw new UnavailableException("file: the counter file is damaged (" + size
                    + " bytes, expected 21: 20 digits and a newline); tokens cannot be issued safely");
        }
        return Long.parseLong(text.substring(0, 20));
    }

    /** Takes the next token: one larger than every token handed out before in this directory. */
    long next() throws IOException {
        long token = Math.addExact(current(), 1);
        ByteBuffer buffer = ByteBuffer.wrap(String.format("%020d\n", token).getBytes(StandardCharsets.US_ASCII));
        while (buffer.hasRemaining()) {
            channel.write(buffer, buffer.position());
        }
        if (fsync) {
            channel.force(false);
        }
        return token;
    }
}
