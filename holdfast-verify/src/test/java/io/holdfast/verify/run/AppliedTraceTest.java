package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.history.Applied;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppliedTraceTest {
    @TempDir
    Path dir;

    @Test
    void readsTheAppliedAndLoadedLinesOfANodeLogAndNothingElse() throws Exception {
        Path log = dir.resolve("n1.log");
        Files.write(
                log,
                List.of(
                        "03:39:40.687 INFO  i.h.server.applied - applied 1 term 1 entry f6b64ef9 table 339c6837 token 0 ",
                        "03:39:41.000 INFO  i.h.s.RaftLockService - Node n1 is now the leader (term 2)",
                        "03:39:42.100 INFO  i.h.server.applied - loaded 799 term 7 snapshot table 5deb5df8 token 165 ",
                        "  Caused by: something applied 3 times"));
        List<Applied> trace = AppliedTrace.read("n1", log);
        assertThat(trace)
                .containsExactly(
                        new Applied(0, "n1", 1, 1, "f6b64ef9", "339c6837"),
                        new Applied(0, "n1", 799, 7, null, "5deb5df8"));
        assertThat(trace.get(1).snapshot()).isTrue();
    }
}
