package io.holdfast.ports;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for one test JVM's servers, each held for the JVM's life: ports of {@value #LOWEST}-{@value #ABOVE_HIGHEST}
 * (exclusive), drawn from ranges of {@value #RANGE} ports that this JVM claims for its life, one after another as it
 * uses them up. {@code io.holdfast.testkit.FreePorts} hands them out.
 *
 * <p>A range is claimed through the lock of {@code <locks>/range-<n>}, which only one JVM of the machine holds at a
 * time (the kernel drops it when the JVM exits), so JVMs that run at the same time (forked test JVMs, modules built
 * in parallel, other checkouts) draw from ranges of their own. Each port handed out is also checked free by binding
 * it and locked through {@code <locks>/<port>} ({@code PortLocks}, which {@link PortLease}s lock too), so that a port
 * a JVM took outside its ranges ({@link #take}), drew at random (when every range is claimed), or whose server is
 * stopped for a while is refused to every other JVM and to every verifier run. Two instances on one lock directory
 * in one JVM behave as two JVMs do.
 */
public final class PortRanges {
    /** The lowest port handed out. */
    public static final int LOWEST = PortLocks.LOWEST;

    /** Above the highest port handed out. */
    public static final int ABOVE_HIGHEST = PortLocks.ABOVE_HIGHEST;

    /** Ports per range: a test JVM usually needs fewer; one that needs more claims another range. */
    public static final int RANGE = 200;

    private static final int RANGES = (ABOVE_HIGHEST - LOWEST) / RANGE;

    private final PortLocks locks;

    /** Ports handed out or refused here: none is handed out twice. */
    private final Set<Integer> given = ConcurrentHashMap.newKeySet();

    /** The next port of the range claimed last; {@link #end} when there is none or it is used up. */
    private int cursor;

    private int end;

    /** Ranges and ports locked in the machine's lock directory ({@code java.io.tmpdir}/holdfast-ports). */
    public PortRanges() {
        this(PortLocks.MACHINE);
    }

    /** Ranges and ports locked in {@code locks} (shared by every instance that must not overlap). */
    public PortRanges(Path locks) {
        this.locks = PortLocks.in(locks);
    }

    /** The range a port lies in (0 for the lowest). */
    public static int rangeOf(int port) {
        return (port - LOWEST) / RANGE;
    }

    /**
     * A port nothing listens on now and that no instance on the same lock directory has handed out: the next free
     * one of this instance's range, of a range it claims now if that one is used up, or, when every range is
     * claimed, one drawn at random.
     *
     * @throws IllegalStateException if every range is claimed and 1,000 random ports were all taken
     * @throws UncheckedIOException if the lock directory cannot be written
     */
    public synchronized int next() {
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
     *
     * @throws UncheckedIOException if the lock directory cannot be written
     */
    public boolean take(int port) {
        return port >= LOWEST
                && port < ABOVE_HIGHEST
                && given.add(port)
                && lock(Integer.toString(port))
                && PortLocks.bindable(port);
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

    /** Locks {@code <locks>/<name>} for the JVM's life; false if another instance or JVM holds it. */
    private boolean lock(String name) {
        try {
            return locks.lock(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + name + " under " + locks.directory() + ": " + e, e);
        }
    }
}
