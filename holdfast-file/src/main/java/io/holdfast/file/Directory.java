package io.holdfast.file;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.UnavailableException;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One store directory as this JVM sees it, shared by every client of the JVM that opened it
 * (whatever path they used: directories are told apart by their file key, device and inode).
 *
 * <p><b>Overview for maintainers.</b> The directory holds {@code counter} (see {@link
 * TokenCounter}) and {@code locks/}, one file per lock name (see {@link LockFileNames}). Lock files
 * are locked with OS file locks ({@code fcntl} on Linux): exclusive for write locks, shared for read
 * locks. The OS lock belongs to the whole JVM, so this class is the in-JVM layer in front of it:
 * per lock file it keeps which of this JVM's clients hold it ({@link LockFile}) and takes the OS lock
 * only for the first of them, releasing it with the last. All of that state, and every channel, is
 * touched only on the directory's I/O thread ({@link IoLane}); callers wait for it with their
 * request timeout. Releases wake this JVM's waiters for the same name at once ({@link Signals});
 * waiters in other processes find out by polling.
 *
 * <p>A grant happens entirely under the counter file's lock: take the lock file's OS lock without
 * waiting, take the next token, record the holder in the lock file. So tokens follow grant order
 * across all names and processes, and a fencing check under the same lock never sees a lock file
 * locked by a holder that has not recorded itself yet.
 *
 * <p>Lock files are never deleted: deleting a file another process has open and is about to lock
 * would let two processes lock two different files of the same name.
 */
final class Directory {
    private static final Logger log = LoggerFactory.getLogger(Directory.class);
    static final String LOCKS = "locks";

    private static final Map<Object, Directory> OPEN = new HashMap<>();

    private final Object key;
    private final Path root;
    private final Path locks;
    private final Path counter;
    private final IoLane lane;
    private final Signals signals = new Signals();
    private final SessionFiles sessions;
    private final Map<String, LockFile> files = new HashMap<>(); // I/O thread only
    private int references; // guarded by OPEN

    private Directory(Object key, Path root) {
        this.key = key;
        this.root = root;
        this.locks = root.resolve(LOCKS);
        this.counter = root.resolve(TokenCounter.FILE);
        this.lane = new IoLane("holdfast-file-io " + root);
        this.sessions = new SessionFiles(root);
    }

    /**
     * Opens the directory for one more client: creates it (if {@code create}), its {@code locks/}
     * and its counter when they are missing, and returns the JVM's shared instance for it.
     *
     * @throws UnavailableException if it cannot be reached or created, or its counter is missing
     *     while lock files exist (tokens would start over)
     * @throws InvalidArgumentException if the path exists but is not a directory
     */
    static Directory open(Path root, boolean create) {
        try {
            if (Files.exists(root) && !Files.isDirectory(root)) {
                throw new InvalidArgumentException("file: " + root + " exists but is not a directory");
            }
            if (!Files.isDirectory(root)) {
                if (!create) {
                    throw new UnavailableException(
                            "file: the directory " + root + " does not exist (and the URI says create=false)");
                }
                Files.createDirectories(root);
            }
            Path locks = root.resolve(LOCKS);
            Path counter = root.resolve(TokenCounter.FILE);
            if (!Files.exists(counter)) {
                Files.createDirectories(locks);
                try (Stream<Path> existing = Files.list(locks)) {
                    if (existing.findAny().isPresent()) {
                        throw new UnavailableException("file: " + root + " has lock files but no " + TokenCounter.FILE
                                + " file; new fencing tokens could repeat old ones. Restore the counter file"
                                + " (its content is the last token, 20 digits and a newline) or use a new directory");
                    }
                }
                if (TokenCounter.createIfMissing(counter)) {
                    syncDirectory(root);
                }
            }
            Files.createDirectories(locks);
            Object key = Files.readAttributes(root, BasicFileAttributes.class).fileKey();
            if (key == null) {
                key = root.toRealPath();
            }
            synchronized (OPEN) {
                Directory dir = OPEN.computeIfAbsent(key, k -> new Directory(k, root));
                dir.references++;
                return dir;
            }
        } catch (IOException e) {
            throw IoLane.translate("opening " + root, e);
        }
    }

    static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            log.debug("file: could not fsync the directory {} (not supported here)", dir, e);
        }
    }

    /**
     * Replaces {@code file} with {@code content} so that a crash leaves the old or the new file:
     * writes {@code NAME.tmp} beside it, forces it, renames it over the file and forces the
     * directory ({@code fsync=false} skips both forces).
     */
    static void replace(Path file, ByteBuffer content, boolean fsync) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            while (content.hasRemaining()) {
                out.write(content);
            }
            if (fsync) {
                out.force(true);
            }
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (fsync) {
            syncDirectory(file.getParent());
        }
    }

    /** One client is done with the directory; the last one stops its I/O thread. */
    void closeReference() {
        synchronized (OPEN) {
            if (--references == 0) {
                OPEN.remove(key, this);
                lane.shutdown();
            }
        }
    }

    Path root() {
        return root;
    }

    Signals signals() {
        return signals;
    }

    /** The sessions with attached keys; on the I/O thread under {@link #exclusively} only. */
    SessionFiles sessions() {
        return sessions;
    }

    <T> T call(String what, Deadline deadline, IoLane.Task<T> task, Consumer<? super T> orphan) {
        return lane.call(what, deadline, task, orphan);
    }

    // ---- the following run on the I/O thread only

    /**
     * Grants the request now if no one holds the lock in a conflicting mode, in this JVM or
     * another process. Idempotent per owner.
     */
    Optional<Grant> grant(LockRequest request, String session, String clientName, boolean fsync, Deadline deadline)
            throws IOException {
        String fileName = LockFileNames.of(request.name());
        LockFile existing = files.get(fileName);
        if (existing != null) {
            LockFile.Hold mine = existing.hold(request.owner());
            if (mine != null) {
                return Optional.of(mine.grant());
            }
            if (existing.conflicts(request.mode())) {
                return Optional.empty();
            }
        }
        return TokenCounter.withLock(counter, fsync, deadline, tokens -> {
            LockFile file = files.computeIfAbsent(fileName, LockFile::new);
            try {
                if (!file.locked() && !file.tryLock(locks.resolve(fileName), request.mode() == LockMode.SHARED)) {
                    return Optional.empty();
                }
                Grant grant = new Grant(request, tokens.next(), fileName);
                if (request.mode() == LockMode.EXCLUSIVE) {
                    file.writeHolder(grant, session, clientName);
                }
                file.add(new LockFile.Hold(grant, session));
                return Optional.of(grant);
            } finally {
                if (file.idle()) {
                    file.close();
                    files.remove(fileName);
                }
            }
        });
    }

    /**
     * Runs {@code body} under the counter file's lock: the one mutex of every grant in every process.
     * On the I/O thread only.
     */
    <T> T exclusively(Deadline deadline, IoLane.Task<T> body) throws IOException {
        return TokenCounter.withLock(counter, false, deadline, tokens -> body.run());
    }

    /** Whether this JVM still has the grant with its OS lock in place. */
    boolean holds(Grant grant) {
        LockFile file = files.get((String) grant.handle());
        return file != null && file.hold(grant.request().owner()) != null && file.locked();
    }

    /** Whether {@code session} of this JVM has {@code name}'s grant with {@code token}, OS lock in place. */
    boolean holds(String name, long token, String session) {
        LockFile file = files.get(LockFileNames.of(name));
        return file != null && file.holdsToken(token, session);
    }

    /**
     * Gives a grant back: the last of this JVM's holders of the file releases the OS lock.
     *
     * @return false if this JVM no longer had it, or its OS lock had been lost
     */
    boolean release(Grant grant) {
        String fileName = (String) grant.handle();
        LockFile file = files.get(fileName);
        if (file == null) {
            return false;
        }
        LockFile.Hold hold = file.remove(grant.request().owner());
        if (hold == null) {
            return false;
        }
        boolean intact = file.locked();
        if (file.idle()) {
            if (intact && grant.request().mode() == LockMode.EXCLUSIVE) {
                try {
                    file.writeFree(grant.request().name());
                } catch (IOException e) {
                    log.debug("file: could not mark {} free; its OS lock is released anyway", fileName, e);
                }
            }
            file.close();
            files.remove(fileName);
        }
        signals.signal(grant.request().name());
        return intact;
    }

    /**
     * Drops every grant of a session as a process death would: the OS lock goes where no other
     * client of this JVM still holds the file, and nothing is written.
     *
     * @return the grants dropped
     */
    List<Grant> drop(String session) {
        List<Grant> dropped = new ArrayList<>();
        for (Iterator<LockFile> it = files.values().iterator(); it.hasNext(); ) {
            LockFile file = it.next();
            for (LockFile.Hold hold : file.removeSession(session)) {
                dropped.add(hold.grant());
            }
            if (file.idle()) {
                file.close();
                it.remove();
            }
        }
        for (Grant grant : dropped) {
            signals.signal(grant.request().name());
        }
        return dropped;
    }

    /**
     * Whether {@code token} is the token of a current holder of {@code name}: exact for this JVM's
     * holders; for other processes, only an exclusive holder's recorded token is known.
     */
    boolean isCurrentHolder(String name, long token, Deadline deadline) throws IOException {
        String fileName = LockFileNames.of(name);
        return TokenCounter.withLock(counter, false, deadline, tokens -> {
            LockFile file = files.get(fileName);
            if (file != null) {
                return file.holdsToken(token);
            }
            if (!Files.isDirectory(locks)) {
                throw new UnavailableException("file: " + locks + " is missing");
            }
            OptionalLong recorded = LockFile.exclusiveHolderToken(locks.resolve(fileName));
            return recorded.isPresent() && recorded.getAsLong() == token;
        });
    }

    @Override
    public String toString() {
        return "Directory[" + root + "]";
    }
}
