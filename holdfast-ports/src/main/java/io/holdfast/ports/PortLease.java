package io.holdfast.ports;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The ports of one run (a verifier run's nodes, proxies and stores), held against every other run
 * and every test JVM of this machine until {@link #close()}.
 *
 * <p><b>Guarantees.</b> A port {@link #take() taken} here lies between {@value PortRanges#LOWEST}
 * and {@value PortRanges#ABOVE_HIGHEST} (exclusive), below the kernel's range for automatic local
 * ports (32768 and up here, see {@code io.holdfast.verify.net.Network}), was free when taken, and
 * is locked through {@code PortLocks} in the same directory as {@link PortRanges} locks the tests'
 * ports: no other lease, in this JVM or in another process, and no test JVM holds it while this
 * lease is open, and this lease never takes a port a test JVM holds, even while that test's
 * server is stopped. The kernel drops a process's locks when it dies, even by SIGKILL, so a run
 * that was killed never holds ports from the grave.
 *
 * <p><b>Not guaranteed.</b> Processes that do not lock their ports here (the servers a user runs)
 * may still bind one of them; a node that fails to bind says so ("the client port … is in use").
 *
 * <p><b>Why.</b> CI runs three planted-bug runs and a soak at once, each choosing its nodes' ports,
 * and the verifier's scenarios beside the conformance suite's outage. A bind test alone let two
 * runs choose the same port (CI run of 2026-11-30: a run chose 127.0.0.1:29000 while another run's
 * node held it, or was stopped, and the first run's node n3 could not start); leases locked in a
 * directory of their own let a scenario take the HTTP port of a test's node killed for its 30 s
 * outage (CI run of 2026-12-01, see {@code PortLocks}).
 */
public final class PortLease implements Closeable {
    private static final int TRIES = 400;

    private final PortLocks locks;
    private final Random random;
    private final List<Integer> ports = new ArrayList<>();

    /** A lease locked in the machine's lock directory ({@code java.io.tmpdir}/holdfast-ports). */
    public PortLease() {
        this(PortLocks.MACHINE, new Random());
    }

    /**
     * @param dir where the lock files are (shared by every lease and test JVM that must not overlap)
     * @param random where the candidate ports come from
     */
    public PortLease(Path dir, Random random) {
        this.locks = PortLocks.in(dir);
        this.random = random;
    }

    /**
     * A port for this run alone.
     *
     * @throws IOException if {@value #TRIES} candidates were all held or bound, or the lock directory
     *     cannot be written
     */
    public synchronized int take() throws IOException {
        for (int i = 0; i < TRIES; i++) {
            int port = PortLocks.LOWEST + random.nextInt(PortLocks.ABOVE_HIGHEST - PortLocks.LOWEST);
            if (!locks.lock(Integer.toString(port))) {
                continue; // a lease or test JVM holds it
            }
            if (!PortLocks.bindable(port)) {
                locks.unlock(Integer.toString(port));
                continue;
            }
            ports.add(port);
            return port;
        }
        throw new IOException("no free port between " + PortLocks.LOWEST + " and " + (PortLocks.ABOVE_HIGHEST - 1)
                + " after " + TRIES + " tries (lock files in " + locks.directory() + ")");
    }

    /** The ports taken so far, in order. */
    public synchronized List<Integer> ports() {
        return List.copyOf(ports);
    }

    /** Gives every port back. Idempotent. */
    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (int port : ports) {
            try {
                locks.unlock(Integer.toString(port));
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        ports.clear();
        if (first != null) {
            throw first;
        }
    }
}
