package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadFloorTest {
    private static final String INVOKE =
            "{\"rec\":\"op\",\"type\":\"INVOKE\",\"process\":\"c1\",\"seq\":1,\"time\":1,\"phase\":\"workload\",\"f\":\"ACQUIRE\"}";
    private static final String OK =
            "{\"rec\":\"op\",\"type\":\"OK\",\"process\":\"c1\",\"seq\":1,\"time\":2,\"phase\":\"workload\",\"f\":\"ACQUIRE\"}";
    private static final String FAIL_FINAL =
            "{\"rec\":\"op\",\"type\":\"FAIL\",\"process\":\"c1\",\"seq\":2,\"time\":3,\"phase\":\"final\",\"f\":\"ACQUIRE\"}";

    @TempDir
    Path dir;

    @Test
    void countsCompletedWorkloadOperationsOnlyAndNotAHalfWrittenLine() throws Exception {
        Path c1 = dir.resolve("c1.jsonl");
        Path c2 = dir.resolve("c2.jsonl");
        Files.writeString(c1, String.join("\n", INVOKE, OK, INVOKE, OK, FAIL_FINAL) + "\n");
        Files.writeString(c2, INVOKE + "\n" + OK.substring(0, OK.length() - 5)); // being written
        assertThat(WorkloadFloor.completed(List.of(c1, c2, dir.resolve("c3.jsonl"))))
                .isEqualTo(2);
    }

    @Test
    void waitsUntilTheFloorIsReached() throws Exception {
        Path c1 = dir.resolve("c1.jsonl");
        Files.writeString(c1, "");
        AtomicLong now = new AtomicLong();
        AtomicInteger pauses = new AtomicInteger();
        long done = WorkloadFloor.await(List.of(c1), 3, Duration.ofSeconds(30), now::get, d -> {
            now.addAndGet(d.toNanos());
            pauses.incrementAndGet();
            try {
                Files.writeString(c1, OK + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND); // one more
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(done).isEqualTo(3);
        assertThat(pauses).hasValue(3);
        assertThat(now.get()).isEqualTo(Duration.ofMillis(750).toNanos());
    }

    @Test
    void givesUpAfterItsMostAndSaysHowFarItGot() throws Exception {
        Path c1 = dir.resolve("c1.jsonl");
        Files.writeString(c1, OK + "\n");
        AtomicLong now = new AtomicLong(Long.MAX_VALUE - 1_000_000_000L); // the clock may wrap
        long done =
                WorkloadFloor.await(List.of(c1), 150, Duration.ofSeconds(2), now::get, d -> now.addAndGet(d.toNanos()));
        assertThat(done).isEqualTo(1);
        assertThat(now.get() - (Long.MAX_VALUE - 1_000_000_000L))
                .isEqualTo(Duration.ofSeconds(2).toNanos());
    }
}
