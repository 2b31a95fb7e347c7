package io.holdfast.ports;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lock files of one directory, one per name ({@code <dir>/<port>}, {@code <dir>/range-<n>}), as
 * this JVM holds them: the one engine under {@link PortRanges} (the tests' ports) and {@link
 * PortLease} (the verifier's), so that both refuse what the other holds.
 *
 * <p><b>Guarantees.</b> While a name is {@linkplain #lock locked} here, no other process locks it
 * through this class (its file's lock, {@link FileChannel#tryLock()}, is held), and no other caller
 * in this JVM does either: every instance of one directory in one JVM is the same object, whose
 * table of held names refuses a name it holds without opening its file again. That matters: a lock
 * on a file belongs to the process, and closing any channel of the file, even one whose own {@code
 * tryLock} failed, drops it. The kernel drops a process's locks when it dies, even by SIGKILL, so a
 * run killed holds nothing from the grave.
 *
 * <p><b>Not guaranteed.</b> A process that does not lock its ports here (a server a user started, a
 * connection's automatic source port) may bind a locked port: callers check it {@linkplain #bindable
 * free} too, and ports are drawn below the kernel's range for automatic ports (32768 and up).
 *
 * <p><b>Why one engine.</b> The tests and the verifier each had a lock directory of their own, so
 * neither saw the other's ports. CI runs the verifier's scenarios beside the conformance suite's
 * outage, whose nodes are killed for 30 s: on 2026-12-01 a scenario's node took a killed node's
 * HTTP port, answered the test's {@code /status} as the leader, and the restarted node could not
 * start, so the outage test waited a minute on the wrong cluster.
 */
final class PortLocks {
    /** The lowest port drawn (below it: the fixed ports of the servers users and benchmarks run). */
    static final int LOWEST = 20_000;

    /** Above the highest port drawn: the kernel's automatic ports start at 32768 here. */
    static final int ABOVE_HIGHEST = 32_000;

    /** The machine's lock directory: {@code java.io.tmpdir}/holdfast-ports. */
    static final Path MACHINE = Path.of(System.getProperty("java.io.tmpdir"), "holdfast-ports");

    private static final Map<Path, PortLocks> BY_DIRECTORY = new ConcurrentHashMap<>();

    private final Path dir;

    /** The names this JVM holds here, each with the one channel its lock came through. */
    private final Map<String, FileChannel> held = new HashMap<>();

    private PortLocks(Path dir) {
        this.dir = dir;
    }

    /** This JVM's locks of {@code dir} (the same object for the same directory). */
    static PortLocks in(Path dir) {
        return BY_DIRECTORY.computeIfAbsent(dir.toAbsolutePath().normalize(), PortLocks::new);
    }

    /** The directory's path, for messages. */
    Path directory() {
        return dir;
    }

    /**
     * Locks {@code <dir>/<name>} until {@link #unlock}: true if this call locked it, false if this
     * JVM or another process holds it.
     *
     * @throws IOException if the directory or the file cannot be made or opened
     */
    synchronized boolean lock(String name) throws IOException {
        if (held.containsKey(name)) {
            return false;
        }
        Files.createDirectories(dir);
        FileChannel channel = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // Not reached: only this class locks these files, and its table refuses a held name
            // before opening the file (a second channel's close would drop the first's lock).
            channel.close();
            return false;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            return false;
        }
        held.put(name, channel);
        return true;
    }

    /** Gives {@code <dir>/<name>} back, if this JVM holds it here. */
    synchronized void unlock(String name) throws IOException {
        FileChannel channel = held.remove(name);
        if (channel != null) {
            channel.close(); // releases its lock
        }
    }

    /** True if nothing listens on {@code port} now, on any address of this machine. */
    static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }
}
