package io.holdfast.core;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;

/**
 * Property tests of {@link LockTable}: random command scripts against the reference model, with
 * every invariant of {@link PropertyInvariants} and the snapshot checks after every step (see
 * {@link PropertyChecker}). A failure is reported with the smallest script that still fails the
 * same check ({@link PropertyMinimizer}: jqwik's own shrinking is off, it cannot shorten scripts
 * whose steps refer to earlier ones), the check's message, and the last steps with their replies
 * and events; jqwik's report adds the seed that reproduces the run.
 */
class PropertyLockTableTest {
    private final PropertyCoverage.Tally tally = new PropertyCoverage.Tally();

    private void run(PropertyScripts.Profile profile, List<PropertyStep> script, int restoreAt) {
        tally.profile(profile);
        tally.add(PropertyMinimizer.check(
                script, () -> PropertySubject.of(new LockTable()), PropertyChecker.Options.all(restoreAt)));
    }

    /** The main property: 1,000 scripts of 20 to 80 steps. */
    @Property(tries = 1000, shrinking = ShrinkingMode.OFF)
    void tableAgreesWithModelAndKeepsInvariants(
            @ForAll("scripts") List<PropertyStep> script, @ForAll @IntRange(min = 0, max = 80) int restoreAt) {
        run(PropertyScripts.Profile.MIXED, script, restoreAt);
    }

    /** Fewer, longer scripts: more history (forgotten replies, reopened sessions, old tokens). */
    @Property(tries = 100, shrinking = ShrinkingMode.OFF)
    void longScripts(
            @ForAll("longScripts") List<PropertyStep> script, @ForAll @IntRange(min = 0, max = 300) int restoreAt) {
        run(PropertyScripts.Profile.MIXED, script, restoreAt);
    }

    /** Crowded names, frequent expiry of sessions with a lock-delay, many ticks. */
    @Property(tries = 300, shrinking = ShrinkingMode.OFF)
    void contendedScripts(
            @ForAll("contendedScripts") List<PropertyStep> script,
            @ForAll @IntRange(min = 0, max = 160) int restoreAt) {
        run(PropertyScripts.Profile.CONTENDED, script, restoreAt);
    }

    /**
     * Found by these properties: a table restored from a snapshot taken after a lock-delay had
     * ended (and been handled) ran it again at its next tick, and gave tokens 4 and 5 to other
     * holders than the table it was copied from.
     */
    @Example
    void restoredTableDoesNotRerunAHandledLockDelay() {
        List<PropertyStep> script = List.of(
                acquire(1, 1, 0, 0, 0, 0), // s1 (lock-delay 1500 ms) writes locks/a
                acquire(0, 1, 0, 1, 10_000, 0), // s0 queues to read it
                new PropertyStep.Expire(1, 0), // locks/a is delayed until 2500
                new PropertyStep.Tick(1500), // s0 reads
                acquire(2, 1, 0, 0, 500, 0), // s2 queues to write until 3000
                acquire(3, 1, 0, 1, 10_000, 0), // s3 queues to read behind it
                acquire(3, 2, 1, 0, 0, 300), // s3 writes locks/b, lease until 2800
                acquire(0, 2, 1, 0, 10_000, 0), // s0 queues for locks/b
                new PropertyStep.KeepAlive(0, 1000), // restored here, just before:
                new PropertyStep.Tick(0)); // lease loss, grant, timeout, grant: in this order
        PropertyChecker.check(script, PropertySubject.of(new LockTable()), PropertyChecker.Options.all(8));
    }

    /**
     * Found by these properties (CI, 2026-11-27): a retried close of an earlier life of s0, refused
     * ("already acknowledged") after s0 was opened again and attached a key, was taken for the end of
     * s0 by the register invariant, which then called the key an orphan. A refused close ends nothing.
     */
    @Example
    void aRefusedCloseOfAReopenedSessionEndsNothing() {
        List<PropertyStep> script = List.of(
                new PropertyStep.Close(0, 1, 109), // s0 closes
                new PropertyStep.KeyStep(0, 0, 0, 1, 0), // its attach is refused: s0 is gone
                new PropertyStep.Open(0, 0, 94), // s0 opens again
                new PropertyStep.Retry(8, 57), // the attach again: written, attached to the new s0
                new PropertyStep.Acquire(2, 2, 3, 0, 1, 3, 0, 1523, 1, -1206),
                new PropertyStep.Acquire(4, 2, 0, 3, 1, 3, 3001, 0, 0, 0),
                new PropertyStep.Acquire(3, 2, 0, 1, 1, 3, 5383, 0, 1, 0),
                new PropertyStep.Retry(4, 3)); // the close again: refused, s0 stays with its key
        PropertyChecker.check(script, PropertySubject.of(new LockTable()), PropertyChecker.Options.all(12));
    }

    private static PropertyStep.Acquire acquire(int session, int owner, int name, int mode, long wait, long lease) {
        return new PropertyStep.Acquire(session, owner, name, mode, 1, 3, wait, lease, 0, 0);
    }

    /** Fails the property if its scripts stopped reaching what it is meant to test. */
    @AfterProperty
    void coverage() {
        if (tally.isEmpty()) {
            return; // an example, not a property
        }
        System.out.println("coverage: " + tally.summary());
        tally.require(
                5,
                "busy",
                "cancelled",
                "deadlock",
                "lock-delay imposed",
                "lost: lease_timeout",
                "lost: revoked",
                "lost: session_expired",
                "queued grant",
                "readers together",
                "retry answered from memory",
                "retry learns a decided wait",
                "semaphore shared",
                "session reopened",
                "time sent late",
                "wait timed out");
        tally.requireFor(PropertyScripts.Profile.MIXED, 5, "register written", "fenced write refused");
        tally.requireFor(PropertyScripts.Profile.MIXED, 2, "counter added", "key deleted");
        tally.requireFor(PropertyScripts.Profile.MIXED, 1, "key deleted with its session");
        tally.requireFor(PropertyScripts.Profile.CONTENDED, 3, "granted when lock-delay ended");
    }

    @Provide
    Arbitrary<List<PropertyStep>> scripts() {
        return PropertyScripts.scripts(PropertyScripts.Profile.MIXED, 20, 80);
    }

    @Provide
    Arbitrary<List<PropertyStep>> contendedScripts() {
        return PropertyScripts.scripts(PropertyScripts.Profile.CONTENDED, 40, 120);
    }

    @Provide
    Arbitrary<List<PropertyStep>> longScripts() {
        return PropertyScripts.scripts(PropertyScripts.Profile.MIXED, 150, 300);
    }
}
