package io.holdfast.file;

import io.holdfast.LockMode;
import io.holdfast.store.Grant;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * One lock file as this JVM uses it: the single channel the JVM has open on it, the OS lock taken
 * through that channel, and the grants of this JVM's clients that the OS lock stands for (one
 * exclusive grant, or any number of shared ones counted here). Confined to the directory's I/O
 * thread.
 *
 * <p>One channel per file per JVM is not a style choice: POSIX drops all of a process's locks on a
 * file when any descriptor of that file is closed, and Java throws {@link
 * java.nio.channels.OverlappingFileLockException} for a second lock on the same region. So this
 * JVM opens each lock file once, while one of its clients holds or probes it, and closes it when
 * the last one is done.
 *
 * <p>The file's content is a short text record for operators and for fencing checks from other
 * processes: the current exclusive holder's token, session, client name and process id, written
 * while the grant lock ({@link TokenCounter}) is held, and replaced by {@code free} when an
 * exclusive holder releases. A holder that died leaves its record behind; whether the lock is held
 * is decided by the OS lock alone.
 */
final class LockFile {
    private static final String HEADER = "holdfast lock file";
    private static final String TOKEN = "token: ";

    /** One grant of this JVM on the file. */
    record Hold(Grant grant, String session) {}

    final String fileName;
    private final Map<String, Hold> holds = new LinkedHashMap<>();
    private FileChannel channel;
    private FileLock osLock;

    LockFile(String fileName) {
        this.fileName = fileName;
    }

    Hold hold(String owner) {
        return holds.get(owner);
    }

    boolean idle() {
        return holds.isEmpty();
    }

    /** Whether a request of {@code mode} conflicts with what this JVM holds. */
    boolean conflicts(LockMode mode) {
        if (holds.isEmpty()) {
            return false;
        }
        return mode != LockMode.SHARED || osLock == null || !osLock.isShared();
    }

    /** Whether the OS lock is in place (taken and its channel still open). */
    boolean locked() {
        return osLock != null && osLock.isValid();
    }

    /**
     * Takes the OS lock without waiting, opening the file (created if missing) first.
     *
     * @return false if another process holds it in a conflicting mode
     */
    boolean tryLock(Path file, boolean shared) throws IOException {
        if (channel == null) {
            channel = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        osLock = channel.tryLock(0, Long.MAX_VALUE, shared);
        return osLock != null;
    }

    /** Whether one of this JVM's holds has {@code token} and the OS lock is still in place. */
    boolean holdsToken(long token) {
        return locked() && holds.values().stream().anyMatch(h -> h.grant().token() == token);
    }

    /** Whether {@code session} has the grant with {@code token} here, with the OS lock in place. */
    boolean holdsToken(long token, String session) {
        return locked()
                && holds.values().stream()
                        .anyMatch(h -> h.grant().token() == token && h.session().equals(session));
    }

    void add(Hold hold) {
        holds.put(hold.grant().request().owner(), hold);
    }

    Hold remove(String owner) {
        return holds.remove(owner);
    }

    /** Removes and returns the holds of a session. */
    List<Hold> removeSession(String session) {
        List<Hold> removed = new ArrayList<>();
        holds.values().removeIf(h -> {
            if (h.session().equals(session)) {
                removed.add(h);
                return true;
            }
            return false;
        });
        return removed;
    }

    /** Records the exclusive holder in the file, for fencing checks from other processes. */
    void writeHolder(Grant grant, String session, String clientName) throws IOException {
        write(HEADER + "\nname: " + oneLine(grant.request().name()) + "\n" + TOKEN + grant.token() + "\nsession: "
                + session + "\nclient: " + oneLine(clientName) + "\npid: "
                + ProcessHandle.current().pid()
                + "\nsince: " + Instant.now() + "\n");
    }

    /** Records that the last exclusive holder released. */
    void writeFree(String name) throws IOException {
        write(HEADER + "\nname: " + oneLine(name) + "\nfree\n");
    }

    private void write(String record) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(record.getBytes(StandardCharsets.UTF_8));
        while (buffer.hasRemaining()) {
            channel.write(buffer, buffer.position());
        }
        channel.truncate(buffer.limit());
    }

    /** Releases the OS lock and closes the channel (as a process exit would); never throws. */
    void close() {
        try {
            if (osLock != null && osLock.isValid()) {
                osLock.release();
            }
        } catch (IOException ignored) {
            // closing the channel below releases it too
        }
        osLock = null;
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // nothing left to do with a channel that cannot close
        }
        channel = null;
    }

    /**
     * For a fencing check of a file this JVM does not hold: opens it, probes with a shared lock and
     * reads the recorded exclusive holder's token if another process holds it exclusively. Closes
     * it again. Must run under the grant lock and only when this JVM has no entry for the file.
     *
     * @return the exclusive holder's token, or empty if no process holds the file exclusively
     */
    static OptionalLong exclusiveHolderToken(Path file) throws IOException {
        if (!file.toFile().exists()) {
            return OptionalLong.empty();
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock probe = channel.tryLock(0, Long.MAX_VALUE, true);
            if (probe != null) {
                probe.release();
                return OptionalLong.empty();
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(channel.size(), 8192));
            while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) >= 0) {
                // read it all
            }
            String record = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
            for (String line : record.split("\n")) {
                if (line.startsWith(TOKEN)) {
                    try {
                        return OptionalLong.of(Long.parseLong(line.substring(TOKEN.length())));
                    } catch (NumberFormatException e) {
                        return OptionalLong.empty();
                    }
                }
            }
            return OptionalLong.empty();
        }
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
