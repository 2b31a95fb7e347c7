package io.holdfast.shedlock;

/** ShedLock's provider kit over {@code mem:}, the lock table in this JVM. */
class ShedLockKitMemTest extends ShedLockKit {
    @Override
    String uri() {
        return "mem:shedlock-kit";
    }
}
