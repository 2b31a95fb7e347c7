package io.holdfast.verify.run;

import java.time.Duration;

/**
 * How long the harness waits for its own processes to start before a run breaks off: bounds on a
 * wait, not checks of the service (no checker reads them; a slow start only makes the run longer).
 *
 * <p>They are set for the most crowded machine the harness runs on, CI's: there a soak round of
 * five nodes starts beside three planted-bug runs, the image's three nodes and a Temurin 25 build,
 * some fifty JVMs on two cores. On 2026-12-02 that machine's first soak round ({@code ring}, five
 * nodes) broke off because n1 had not said READY within the 90 s allowed then; the same start
 * beside three planted-bug runs here (load 38) took 50 s to READY, 20 s of it before the JVM logged
 * a line. A node that is alive but silent for longer than these is starved or hung; either way the
 * run says which process and how long, and breaks off.
 */
final class StartLimits {
    /** Every member of a run's first start, started at once, until each has said READY. */
    static final Duration FIRST_START = Duration.ofMinutes(3);

    /** A node started again during a run (a restart, a new member), until it says READY or FAILED. */
    static final Duration RESTART = Duration.ofMinutes(2);

    /** The client worker JVMs, started at once, until each has said READY. */
    static final Duration WORKERS = Duration.ofMinutes(2);

    /** The first leader after the first start. */
    static final Duration FIRST_LEADER = Duration.ofMinutes(2);

    private StartLimits() {}
}
