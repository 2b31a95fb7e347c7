package io.holdfast.examples.coupons;

/**
 * The moment between an instance's read and its write, where a stopped process (a GC pause, a SIGSTOP, a
 * frozen VM) does the most harm: whatever it read may be stale by the time it writes. The demo's victim
 * instance waits here once for the driver, which stops it with SIGSTOP past its lease and then resumes it.
 */
interface PausePoint {
    /** Does nothing: every instance but the victim. */
    PausePoint NONE = new PausePoint() {
        @Override
        public void reached(String what) {}

        @Override
        public void wrote(String result) {}
    };

    /** Called after the reads a write depends on, before the write; {@code what} describes the write. */
    void reached(String what) throws InterruptedException;

    /** Called with what became of the write that followed the pause (if this call was the one that paused). */
    void wrote(String result);
}
