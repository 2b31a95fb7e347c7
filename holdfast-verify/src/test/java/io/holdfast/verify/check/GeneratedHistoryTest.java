package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Random histories of a simulated correct service pass every checker; one planted double grant fails. */
class GeneratedHistoryTest {

    @Test
    void correctServicePassesEveryChecker() {
        for (long seed = 1; seed <= 30; seed++) {
            List<Record> records = new LockSimulation(seed, 6, 600, false, 0.03).run();
            for (CheckResult r : Checkers.run(records)) {
                assertThat(r.status()).as("seed %d: %s", seed, r).isEqualTo(expected(r));
            }
        }
    }

    @Test
    void plantedDoubleGrantFails() {
        for (long seed = 1; seed <= 30; seed++) {
            LockSimulation sim = new LockSimulation(seed, 6, 600, true, 0.03);
            List<Record> records = sim.run();
            assertThat(sim.plantedKey).as("seed %d planted", seed).isNotNull();
            CheckResult r = new LinearizabilityChecker().check(records);
            assertThat(r.status()).as("seed %d: %s", seed, r).isEqualTo(Status.FAIL);
            assertThat(r.violations())
                    .as("seed %d", seed)
                    .singleElement()
                    .asString()
                    .startsWith(sim.plantedKey + ": not linearizable");
        }
    }

    @Test
    void fiveThousandOperationsCheckQuickly() {
        List<Record> records = new LockSimulation(42, 6, 5000, false, 0.03).run();
        long ops = records.stream()
                .filter(r -> r instanceof Op o && o.type() == Op.Type.INVOKE)
                .count();
        assertThat(ops).isGreaterThanOrEqualTo(5000);
        // The checkers' own work, in CPU time of this thread (they run on it): wall time would also
        // count whatever else the machine does meanwhile (other test JVMs of a parallel build).
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = threads.getCurrentThreadCpuTime();
        List<CheckResult> results = Checkers.run(records);
        long millis = (threads.getCurrentThreadCpuTime() - start) / 1_000_000;
        assertThat(results)
                .allSatisfy(r -> assertThat(r.status()).as(r.toString()).isEqualTo(expected(r)));
        assertThat(millis)
                .as("checking %d operations took %d ms of CPU", ops, millis)
                .isLessThan(3_000);
    }

    /**
     * Every checker passes a correct history; the catch-up and interrupted-add checkers apply to a few scenarios only,
     * the elections checker to runs with elections, the keys checker to runs with keys, and the availability checker
     * to runs with faults.
     */
    private static Status expected(CheckResult r) {
        return List.of("catch-up", "heal-catch-up", "interrupted-add", "elections", "keys", "availability")
                        .contains(r.checker())
                ? Status.SKIPPED
                : Status.PASS;
    }
}
