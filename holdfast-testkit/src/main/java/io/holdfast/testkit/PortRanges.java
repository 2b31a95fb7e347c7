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
 * What {@link FreePorts} hands out, for one JVM: ports of {@value #LOWEST}-{@value #ABOVE_HIGHEST} (exclusive), drawn
 * from ranges of {@value #RANGE} ports that this JVM claims for its life, one after another as it uses them up.
 *
 * <p>A range is claimed through a file lock on {@code <locks>/range-<n>}, which only one JVM of the machine holds
 * at a time (the kernel drops it when the JVM exits), so JVMs that run at the same time (forked test JVMs, modules
 * built in parallel, other checkouts) draw from ranges of their own. Each port handed out is also checked free by
 * binding it and locked through {@code <locks>/<port>}, so that a port a JVM took outside its ranges ({@link
 * #take}) or drew at random (when every range is claimed) is refused to every other JVM too. Two instances on one
 * lock directory in one JVM behave as two JVMs do.
 */
final class PortRanges {
    static final int LOWEST = 20_000;
    static final int ABOVE_HIGHEST = 32_000;
    /** Ports per range: a test JVM usually needs fewer; one that needs more claims another range. */
    static final int RANGE = 200;

    private static final int RANGES = (ABOVE_HIGHEST - LOWEST) / RANGE;

    private final Path locks;

    /** Ports handed out or refused here: none is handed out twice. */
    private final Set<Integer> given = ConcurrentHashMap.newKeySet();

    /** The locks on claimed ranges and handed-out ports, held for the instance's life. */
    private final List<FileLock> held = new CopyOnWriteArrayList<>();

    /** The next port of the range claimed last; {@link #end} when there is none or it is used up. */
    private int cursor;

    private int end;

    PortRanges(Path locks) {
        this.locks = locks;
    }

    /** The range a port lies in (0 for the lowest). */
    static int rangeOf(int port) {
        return (port - LOWEST) / RANGE;
    }

    /**
     * A port nothing listens on now and that no instance on the same lock directory has handed out: the next free
     * one of this instance's range, of a range it claims now if that one is used up, or, when every range is
     * claimed, one drawn at random.
     *
     * @throws IllegalStateException if every range is claimed and 1,000 random ports were all taken
     */
    synchronized int next() {
        while (cursor < end || claimRange()) {
            int port = cursor++;
            if (take(port)) {
                return port;
            }
        }
        for (int i = 0; i < 1_000; i++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, ABOVE_HIGHEST);
            if (take(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port between " + LOWEST + " and " + (ABOVE_HIGHEST - 1)
                + " (every range of " + RANGE + " ports is claimed by another JVM)");
    }

    /**
     * Takes a port the caller worked out itself: true if it lies between {@value #LOWEST} and {@value
     * #ABOVE_HIGHEST} (exclusive), nothing listens on it now and no instance on the same lock directory has handed
     * it out; it is then handed out. A port refused once is never handed out later.
     */
    boolean take(int port) {
        if (port < LOWEST || port >= ABOVE_HIGHEST || !given.add(port) || !lock(Integer.toString(port))) {
            return false;
        }
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    /** Claims the first free range from a random one on; false if another JVM holds each. */
    private boolean claimRange() {
        int start = ThreadLocalRandom.current().nextInt(RANGES);
        for (int i = 0; i < RANGES; i++) {
            int range = (start + i) % RANGES;
            if (lock("range-" + range)) {
                cursor = LOWEST + range * RANGE;
                end = cursor + RANGE;
                return true;
            }
        }
        return false;
    }

    /** Locks {@code <locks>/<name>} for this instance's life; false if another holds it. */
    private boolean lock(String name) {
        try {
            Files.createDirectories(locks);
            FileChannel channel =
                    FileChannel.open(locks.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
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
            held.add(lock);
            return true;
        } catch (IOException e) {
            throw new IllegalStateException("cannot lock " + name + " under " + locks + ": " + e, e);
        }
    }
}
