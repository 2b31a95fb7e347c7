package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code holdfast verify --check} and every soak round conclude from the checkers' results. */
class VerifierCheckTest {
    @TempDir
    Path dir;

    @Test
    void aCheckThatCannotDecideFailsTheRunWithoutAViolation() throws Exception {
        // lock-0 taken as a lock and read as a register: no one model, so linearizability is INCONCLUSIVE
        Call.Target lock = Call.Target.lock("lock-0");
        Op acquire = Op.of("c1", 1, 1_000, "workload", new Call.Acquire(lock, false, 1000));
        Op release = Op.of("c1", 2, 3_000, "workload", new Call.Release(lock, 1));
        Op read = Op.of("c2", 1, 5_000, "workload", new Call.RegisterRead("lock-0"));
        List<Record> records = List.of(
                acquire,
                acquire.complete(2_000, new Result.Granted(1)),
                release,
                release.complete(4_000, new Result.Released()),
                read,
                read.complete(6_000, new Result.RegisterState(0, 0)));
        Path file = dir.resolve("history.jsonl");
        History.write(file, records);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        int exit = new Verifier(
                        new PrintStream(bytes, true, StandardCharsets.UTF_8),
                        io.holdfast.verify.check.AvailabilityChecker.Bounds.QUIET)
                .check(file);

        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("linearizability  INCONCLUSIVE").doesNotContain("violation:");
        assertThat(printed).contains("verdict: FAIL");
        assertThat(exit).isEqualTo(1);
    }
}
