package io.holdfast.testkit;

import io.holdfast.ports.PortRanges;

/**
 * Free TCP ports for servers that a test starts on this machine and must name before they bind
 * (cluster members that know each other's ports, a store started on a given port).
 *
 * <p>A port from {@code new ServerSocket(0)}, closed again so that the server can bind it later,
 * lies in the kernel's range for automatic ports (32768-60999 on Linux), which the kernel hands to
 * any socket of the machine meanwhile: another test JVM's server, or the source port of any
 * outgoing connection. The ports here lie below that range, checked free by binding them: only a
 * test that names ports can take one, and within one JVM none is handed out twice.
 *
 * <p>Each test JVM draws from ranges of its own ({@link PortRanges}): it claims a range of 200
 * ports for its life through a file lock under {@code <java.io.tmpdir>/holdfast-ports/}, and
 * another when it has used that one up, so that test JVMs running at the same time (forked test
 * JVMs, modules built in parallel) never draw the same port, even before either has bound it. Each
 * port handed out is also locked there for the JVM's life, so that a port {@linkplain #take taken}
 * outside the JVM's ranges is refused to the others as well, and to the verifier's runs, which
 * lock their ports in the same directory ({@link io.holdfast.ports.PortLease}): a test's node that
 * is stopped for a while keeps its ports.
 */
public final class FreePorts {
    private static final PortRanges PORTS = new PortRanges();

    private FreePorts() {}

    /**
     * A port nothing listens on now and that no test JVM of this machine has handed out before.
     *
     * @throws IllegalStateException if no port is left
     */
    public static int next() {
        return PORTS.next();
    }

    /**
     * Takes a port the caller worked out itself (a fixed offset from another port, say): true if
     * it lies in this class's range, nothing listens on it now and no test JVM of this machine has
     * handed it out before; it is then handed out. A port refused once is never handed out later.
     */
    public static boolean take(int port) {
        return PORTS.take(port);
    }
}
