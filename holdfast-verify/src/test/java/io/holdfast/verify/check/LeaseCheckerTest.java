package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import org.junit.jupiter.api.Test;

class LeaseCheckerTest {
    private final LeaseChecker checker = new LeaseChecker();

    @Test
    void holdsOneAfterTheOtherPass() {
        H h = new H();
        h.valid("c1", 10, H.lock("lock-0"), 1).valid("c1", 200, H.lock("lock-0"), 1);
        h.valid("c2", 201, H.lock("lock-0"), 2).valid("c2", 400, H.lock("lock-0"), 2);
        CheckResult r = checker.check(h.records());
        assertThat(r.status()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("holds", 2L).containsEntry("valid answers", 4L);
    }

    @Test
    void twoHoldersToldTheyAreValidAtTheSameTimeFailNamingBoth() {
        // c1's session was expired at once by a new leader; c2 was granted while c1's lease,
        // as its client counts it, still had time left.
        H h = new H();
        h.valid("c1", 10, H.lock("lock-0"), 1).valid("c1", 300, H.lock("lock-0"), 1);
        h.valid("c2", 250, H.lock("lock-0"), 2).valid("c2", 500, H.lock("lock-0"), 2);
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
        shared.valid("c1", 10, H.read("rw-0"), 1).valid("c1", 300, H.read("rw-0"), 1);
        shared.valid("c2", 100, H.read("rw-0"), 2).valid("c2", 400, H.read("rw-0"), 2);
        assertThat(checker.check(shared.records()).status()).isEqualTo(Status.PASS);

        H writer = new H();
        writer.valid("c1", 10, H.read("rw-0"), 1).valid("c1", 300, H.read("rw-0"), 1);
        writer.valid("c2", 100, H.write("rw-0"), 2).valid("c2", 400, H.write("rw-0"), 2);
        assertThat(checker.check(writer.records()).status()).isEqualTo(Status.FAIL);
    }

    @Test
    void differentKeysAndSemaphoresAreNotCompared() {
        H h = new H();
        h.valid("c1", 10, H.lock("lock-0"), 1).valid("c1", 300, H.lock("lock-0"), 1);
        h.valid("c2", 100, H.lock("lock-1"), 2).valid("c2", 400, H.lock("lock-1"), 2);
        h.valid("c1", 10, H.semaphore("sem-0", 1, 2), 3).valid("c1", 300, H.semaphore("sem-0", 1, 2), 3);
        h.valid("c2", 100, H.semaphore("sem-0", 1, 2), 4).valid("c2", 400, H.semaphore("sem-0", 1, 2), 4);
        CheckResult r = checker.check(h.records());
        assertThat(r.status()).as("no key with two holds: nothing to compare").isEqualTo(Status.SKIPPED);
    }
}
