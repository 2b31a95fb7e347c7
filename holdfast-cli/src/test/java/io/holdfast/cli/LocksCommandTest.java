package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LocksCommandTest {
    private final String backend = "mem:locks-" + UUID.randomUUID().toString().substring(0, 8);
    private StringWriter out;
    private final StringWriter err = new StringWriter();
    private LockClient alice;
    private LockClient bob;

    @BeforeEach
    void open() {
        alice = LockClient.open(
                backend, ClientOptions.builder().clientName("alice@host-1").build());
        bob = LockClient.open(
                backend, ClientOptions.builder().clientName("bob@host-2").build());
    }

    @AfterEach
    void close() {
        bob.close();
        alice.close();
    }

    private int locks(String... args) {
        out = new StringWriter();
        List<String> all = new ArrayList<>(List.of("locks", "--backend", backend));
        all.addAll(List.of(args));
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(all.toArray(String[]::new));
    }

    @Test
    void printsHoldersWithTheirTokensAndWaitersInQueueOrder() throws Exception {
        Lease held = alice.lock("jobs/nightly").acquire(Duration.ofSeconds(5));
        CompletableFuture<Lease> waiting = bob.lock("jobs/nightly").acquireAsync(Duration.ofSeconds(30));
        await().atMost(5, TimeUnit.SECONDS)
                .until(() -> alice.admin()
                                .describe("jobs/nightly")
                                .orElseThrow()
                                .waiters()
                                .size()
                        == 1);
        Lease permit = bob.semaphore("gpu", 4).acquire(1, Duration.ofSeconds(5));

        assertThat(locks()).as(err.toString()).isZero();
        List<String> lines = out.toString().lines().toList();
        assertThat(lines.get(0)).startsWith("NAME").contains("HELD BY", "TOKEN", "WAITERS");
        assertThat(lines.get(1))
                .as("the semaphore, sorted first by name")
                .startsWith("gpu (4 permits)")
                .contains("bob@host-2", bob.sessionId(), "1 permit", Long.toString(permit.fencingToken()));
        assertThat(lines.get(2))
                .startsWith("jobs/nightly")
                .contains("alice@host-1", alice.sessionId(), "EXCLUSIVE", Long.toString(held.fencingToken()))
                .endsWith(" 1");
        assertThat(lines.get(3)).startsWith("  1. waiting").contains("bob@host-2", "so far", "to go");
        assertThat(lines).hasSize(4);

        assertThat(locks("jobs/")).isZero();
        assertThat(out.toString()).contains("jobs/nightly").doesNotContain("gpu");

        held.release();
        waiting.get(5, TimeUnit.SECONDS).release();
        permit.release();
        assertThat(locks()).isZero();
        assertThat(out.toString()).isEqualTo("no locks are held or waited for" + System.lineSeparator());
    }

    @Test
    void saysWhenTheLimitCutTheList() throws Exception {
        alice.lock("a/1").acquire(Duration.ofSeconds(5));
        alice.lock("a/2").acquire(Duration.ofSeconds(5));
        assertThat(locks("--limit", "1")).isZero();
        assertThat(out.toString()).contains("a/1").doesNotContain("a/2").contains("(the first 1; --limit shows more)");
    }

    @Test
    void theLimitNamedIsTheOneTheBackendAccepts() {
        assertThat(locks("--limit", "10000")).isZero();
        assertThat(locks("--limit", "10001")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--limit must be between 1 and 10000, not 10001");
    }

    @Test
    void badInputIsAUsageError() {
        assertThat(locks("--limit", "0")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--limit must be between 1 and 10000, not 0");
        assertThat(Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true), Map.of())
                        .execute("locks", "--backend", "nosuch://x"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("no backend in this build accepts 'nosuch://x'");
    }

    @Test
    void durationsReadAtAGlance() {
        assertThat(LocksCommand.duration(Duration.ofMillis(850))).isEqualTo("850ms");
        assertThat(LocksCommand.duration(Duration.ofMillis(12_345))).isEqualTo("12.3s");
        assertThat(LocksCommand.duration(Duration.ofSeconds(245))).isEqualTo("4m05s");
        assertThat(LocksCommand.duration(Duration.ofMinutes(123))).isEqualTo("2h03m");
        assertThat(LocksCommand.duration(Duration.ofMillis(-5))).isEqualTo("0ms");
    }
}
