package io.holdfast.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports for servers that a test starts on this machine and must name before they bind
 * (cluster members that know each other's ports, a store started on a given port).
 *
 * <p>A port from {@code new ServerSocket(0)}, closed again so that the server can bind it later,
 * lies in the kernel's range for automatic ports (32768-60999 on Linux), which the kernel hands to
 * any socket of the machine meanwhile: another test JVM's server, or the source port of any
 * outgoing connection. The ports here are random ones below that range, checked free by binding
 * them: only a test that names ports can take one, and within one JVM none is handed out twice.
 * Across JVMs (parallel modules, forked test JVMs) each port handed out is also locked, for the life
 * of the JVM, through a file lock on {@code <java.io.tmpdir>/holdfast-test-ports/<port>}: another
 * JVM that draws the same port before either has bound it is refused it and draws again. (Before,
 * two JVMs drawing one port of 12,000 at the same time both got it; it happened in CI.)
 */
public final class FreePorts {
    private static final int LOWEST = 20_000;
    private static final int ABOVE_HIGHEST = 32_000;

    /** Ports handed out in this JVM. */
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    /** The locks on the ports handed out, held until the JVM exits (the kernel then drops them). */
    private static final List<FileLock> HELD = new CopyOnWriteArrayList<>();

    private static final Path LOCKS = Path.of(System.getProperty("java.io.tmpdir"), "holdfast-test-ports");

    private FreePorts() {}

    /**
     * A port nothing listens on now and that this JVM has not handed out before.
     *
     * @throws IllegalStateException if 1,000 random ports were all taken
     */
    public static int next() {
        for (int i = 0; i < 1_000; i++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, ABOVE_HIGHEST);
            if (take(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port between " + LOWEST + " and " + (ABOVE_HIGHEST - 1));
    }

    /**
     * Takes a port the caller worked out itself (a fixed offset from another port, say): true if
     * it lies in this class's range, nothing listens on it now and this JVM has not handed it out
     * before; it is then handed out. A port refused once is never handed out later.
     */
    public static boolean take(int port) {
        if (port < LOWEST || port >= ABOVE_HIGHEST || !GIVEN.add(port) || !lock(port)) {
            return false;
        }
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    /** Locks the port for this JVM's life; false if another JVM holds it. */
    private static boolean lock(int port) {
        try {
            Files.createDirectories(LOCKS);
            FileChannel channel = FileChannel.open(
                    LOCKS.resolve(Integer.toString(port)), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                channel.close();
                return false;
            }
            HELD.add(lock);
            return true;
        } catch (IOException e) {
            throw new IllegalStateException("cannot lock test port " + port + " under " + LOCKS + ": " + e, e);
        }
    }
}
