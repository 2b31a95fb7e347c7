package io.holdfast.floors;

import io.holdfast.ports.PortRanges;

/**
 * Free loopback ports for the members an engine starts: {@link PortRanges}'s, which lie below the kernel's range for
 * automatic ports (so no outgoing connection or {@code ServerSocket(0)} of the machine takes one between our check and
 * the member's bind) and are locked where test JVMs and verifier runs lock theirs, so that floors measured beside
 * CI's other suites never draw a port another JVM holds.
 */
public final class Ports {
    private static final PortRanges RANGES = new PortRanges();

    /** A port nothing listens on now and that no JVM of this machine drawing from the same locks has handed out. */
    public static int free() {
        return RANGES.next();
    }

    private Ports() {}
}
