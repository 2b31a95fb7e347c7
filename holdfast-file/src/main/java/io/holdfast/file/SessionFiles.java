package io.holdfast.file;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The sessions of the directory's clients: {@code sessions/ID.session}, a file its client holds an
 * exclusive OS lock on from its opening until it closes. The OS drops the lock when the process
 * dies, so "the session has ended" is "its file is not locked", told the same way by every
 * process, at the moment of the death.
 *
 * <p>Every method runs on the directory's I/O thread under the counter file's lock ({@link
 * Directory#exclusively}): a session file is created and locked in one step, so nobody sees it
 * unlocked before its owner locks it, and the file of an ended session is deleted by whoever finds
 * it unlocked. A session of this JVM is known from the table (a JVM cannot probe its own OS lock).
 */
final class SessionFiles {
    static final String SESSIONS = "sessions";
    private static final String SUFFIX = ".session";
    /** The ids {@link FileBackend} makes: nothing else names a session file. */
    private static final Pattern ID = Pattern.compile("file-[0-9]{1,19}-[0-9a-f]{32}");

    private final Path dir;
    private final Map<String, FileChannel> open = new HashMap<>();

    SessionFiles(Path root) {
        this.dir = root.resolve(SESSIONS);
    }

    /**
     * Creates and locks the session's file, and deletes the files of ended sessions (processes that
     * died with no one reading their keys since): one probe per session file at each client's opening.
     */
    void open(String session) throws IOException {
        Files.createDirectories(dir);
        try (var files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                alive(name.substring(0, name.length() - SUFFIX.length()));
            }
        }
        FileChannel channel =
                FileChannel.open(dir.resolve(session + SUFFIX), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            channel.close();
            throw new IOException("the new session file of " + session + " is locked by another process");
        }
        open.put(session, channel);
    }

    /**
     * Ends the session: its OS lock goes; with {@code delete} (a close) its file goes too, else (a
     * simulated process death) the next reader finds it unlocked and deletes it.
     */
    void end(String session, boolean delete) throws IOException {
        FileChannel channel = open.remove(session);
        if (channel == null) {
            return;
        }
        channel.close(); // releases the OS lock
        if (delete) {
            Files.deleteIfExists(dir.resolve(session + SUFFIX));
        }
    }

    /** Whether the session's file is locked by its live client; deletes the file of an ended one. */
    boolean alive(String session) throws IOException {
        if (open.containsKey(session)) {
            return true;
        }
        if (!ID.matcher(session).matches()) {
            return false;
        }
        Path file = dir.resolve(session + SUFFIX);
        if (!Files.exists(file)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock probe = channel.tryLock();
            if (probe == null) {
                return true;
            }
            probe.release();
        } catch (java.nio.file.NoSuchFileException gone) {
            return false;
        }
        Files.deleteIfExists(file);
        return false;
    }
}
