package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Op;
import org.junit.jupiter.api.Test;

class LeaseCheckerTest {
    private final LeaseChecker checker = new LeaseChecker();

    @Test
    void holdsOneAfterTheOtherPass() {
        H h = new H();
        h.valid("c1", 10, "lock-0", Op.Kind.LOCK, 1).valid("c1", 200, "lock-0", Op.Kind.LOCK, 1);
        h.valid("c2", 201, "lock-0", Op.Kind.LOCK, 2).valid("c2", 400, "lock-0", Op.Kind.LOCK, 2);
        CheckResult r = checker.check(h.records());
        assertThat(r.status()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("holds", 2L).containsEntry("valid answers", 4L);
    }

    @Test
    void twoHoldersToldTheyAreValidAtTheSameTimeFailNamingBoth() {
        // c1's session was expired at once by a new leader; c2 was granted while c1's lease,
        // as its client counts it, still had time left.
        H h = new H();
        h.valid("c1", 10, "lock-0", Op.Kind.LOCK, 1).valid("c1", 300, "lock-0", Op.Kind.LOCK, 1);
        h.valid("c2", 250, "lock-0", Op.Kind.LOCK, 2).valid("c2", 500, "lock-0", Op.Kind.LOCK, 2);
        CheckResult r = checker.check(h.records());
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .satisfies(v -> assertThat(v)
                        .contains("lock-0")
                        .contains("c1 (token 1")
                        .contains("c2 (token 2")
                        .contains("both told their lease was valid"));
    }

    @Test
    void readersShareAndAWriterConflictsWithThem() {
        H shared = new H();
        shared.valid("c1", 10, "rw-0", Op.Kind.READ, 1).valid("c1", 300, "rw-0", Op.Kind.READ, 1);
        shared.valid("c2", 100, "rw-0", Op.Kind.READ, 2).valid("c2", 400, "rw-0", Op.Kind.READ, 2);
        assertThat(checker.check(shared.records()).status()).isEqualTo(Status.PASS);

        H writer = new H();
        writer.valid("c1", 10, "rw-0", Op.Kind.READ, 1).valid("c1", 300, "rw-0", Op.Kind.READ, 1);
        writer.valid("c2", 100, "rw-0", Op.Kind.WRITE, 2).valid("c2", 400, "rw-0", Op.Kind.WRITE, 2);
        assertThat(checker.check(writer.records()).status()).isEqualTo(Status.FAIL);
    }

    @Test
    void differentKeysAndSemaphoresAreNotCompared() {
        H h = new H();
        h.valid("c1", 10, "lock-0", Op.Kind.LOCK, 1).valid("c1", 300, "lock-0", Op.Kind.LOCK, 1);
        h.valid("c2", 100, "lock-1", Op.Kind.LOCK, 2).valid("c2", 400, "lock-1", Op.Kind.LOCK, 2);
        h.valid("c1", 10, "sem-0", Op.Kind.SEMAPHORE, 3).valid("c1", 300, "sem-0", Op.Kind.SEMAPHORE, 3);
        h.valid("c2", 100, "sem-0", Op.Kind.SEMAPHORE, 4).valid("c2", 400, "sem-0", Op.Kind.SEMAPHORE, 4);
        CheckResult r = checker.check(h.records());
        assertThat(r.status()).as("no key with two holds: nothing to compare").isEqualTo(Status.SKIPPED);
    }
}
