package io.holdfast.verify.run;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The nodes' ports of one verifier run, held against every other run on this machine until {@link
 * #close()}.
 *
 * <p><b>Guarantees.</b> A port {@link #take() taken} here is below the kernel's range for automatic
 * local ports (ports 20000-31999; that range is 32768 and up here, see {@link
 * io.holdfast.verify.net.Network}), was free on {@code 127.0.0.1} when taken, and is not taken by
 * any other lease, in this JVM or in another process, while this one is open: each port has a lock
 * file in {@link #DEFAULT_DIR}, and a lease holds the file's lock ({@link FileChannel#tryLock()})
 * until it is closed. The kernel drops a process's locks when it dies, even by SIGKILL, so a run
 * that was killed never holds ports from the grave.
 *
 * <p><b>Not guaranteed.</b> Processes that do not take their ports here (the tests, the servers a
 * user runs) may still bind one of them; a node that fails to bind says so ("the client port … is
 * in use").
 *
 * <p><b>Why.</b> CI runs three planted-bug runs and a soak at once, each choosing its nodes' ports.
 * A bind test alone let two runs choose the same port: in CI run of 2026-11-30 a run chose
 * 127.0.0.1:29000 while another run's node held it, or was stopped (killed and not yet restarted)
 * when the port was tested, and the first run's node n3 could not start.
 */
final class PortLease implements Closeable {
    /** Where the lock files are, one per port: {@code java.io.tmpdir}/holdfast-verify-ports. */
    static final Path DEFAULT_DIR = Path.of(System.getProperty("java.io.tmpdir"), "holdfast-verify-ports");

    private static final int LOW = 20_000;
    private static final int COUNT = 12_000;
    private static final int TRIES = 400;

    /**
     * The ports the leases of this JVM hold, by lock directory. A second channel on a file whose
     * lock this JVM holds must never be opened: on Linux, closing any descriptor of a file drops
     * every lock the process holds on it.
     */
    private static final Map<Path, Set<Integer>> HELD_HERE = new ConcurrentHashMap<>();

    private final Path dir;
    private final Set<Integer> heldHere;
    private final Random random;
    private final List<FileChannel> held = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();

    /** A lease with its lock files in {@link #DEFAULT_DIR}. */
    PortLease() throws IOException {
        this(DEFAULT_DIR, new Random());
    }

    /**
     * @param dir where the lock files are (shared by every lease that must not overlap)
     * @param random where the candidate ports come from
     */
    PortLease(Path dir, Random random) throws IOException {
        this.dir = Files.createDirectories(dir).toAbsolutePath().normalize();
        this.heldHere = HELD_HERE.computeIfAbsent(this.dir, d -> ConcurrentHashMap.newKeySet());
        this.random = random;
    }

    /**
     * A port for this run alone.
     *
     * @throws IOException if {@value #TRIES} candidates were all held or bound
     */
    synchronized int take() throws IOException {
        for (int i = 0; i < TRIES; i++) {
            int port = LOW + random.nextInt(COUNT);
            if (!heldHere.add(port)) {
                continue; // a lease of this JVM holds it
            }
            FileChannel channel = lock(port);
            if (channel == null) {
                heldHere.remove(port);
                continue; // a lease of another process holds it
            }
            if (!bindable(port)) {
                channel.close();
                heldHere.remove(port);
                continue;
            }
            held.add(channel);
            ports.add(port);
            return port;
        }
        throw new IOException("no free port between " + LOW + " and " + (LOW + COUNT - 1) + " after " + TRIES
                + " tries (lock files in " + dir + ")");
    }

    /** The ports taken so far, in order. */
    synchronized List<Integer> ports() {
        return List.copyOf(ports);
    }

    /** Gives every port back. Idempotent. */
    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (FileChannel c : held) {
            try {
                c.close(); // releases its lock
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        held.clear();
        heldHere.removeAll(ports);
        ports.clear();
        if (first != null) {
            throw first;
        }
    }

    /** The port's lock file's channel with its lock held, or null if another process holds it. */
    private FileChannel lock(int port) throws IOException {
        FileChannel channel =
                FileChannel.open(dir.resolve(port + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            return null;
        }
        return channel;
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException busy) {
            return false;
        }
    }
}
