package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@code holdfast watch}: one line per event of a lock, a prefix or a register, and when it stops. */
class WatchCommandTest {
    private static final AtomicInteger STORES = new AtomicInteger();
    private static final Duration LONG = Duration.ofSeconds(10);

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** An in-process store of its own for each test (mem: can be inspected, so it can be watched). */
    private final String backend = "mem:watch-test-" + STORES.incrementAndGet();

    private int watch(String... args) {
        List<String> all = new ArrayList<>(List.of("watch"));
        all.addAll(List.of(args));
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(all.toArray(String[]::new));
    }

    private CompletableFuture<Integer> start(String... args) {
        return CompletableFuture.supplyAsync(() -> watch(args));
    }

    private List<String> lines() {
        return out.toString().lines().toList();
    }

    private void awaitLine(String start) {
        await().atMost(LONG).until(() -> lines().stream().anyMatch(l -> l.startsWith(start)));
    }

    @Test
    void aLockTakenAndReleasedByAnotherClientShowsBothWithTheToken() throws Exception {
        try (LockClient other = LockClient.open(backend)) {
            CompletableFuture<Integer> exit = start("jobs/a", "--count", "3", "--backend", backend);
            awaitLine("STATE");
            Lease lease = other.lock("jobs/a").acquire(LONG);
            awaitLine("ACQUIRED");
            lease.release();

            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
            String holder = "session=" + other.sessionId() + " token=" + lease.fencingToken() + " mode=EXCLUSIVE";
            assertThat(lines()).hasSize(3);
            assertThat(lines().get(0)).isEqualTo("STATE jobs/a free");
            assertThat(lines().get(1)).isEqualTo("ACQUIRED jobs/a " + holder);
            assertThat(lines().get(2)).startsWith("RELEASED jobs/a " + holder + " cause=");
            assertThat(err.toString()).isEmpty();
        }
    }

    @Test
    void jsonLinesParseWithEveryField() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        try (LockClient other = LockClient.open(backend);
                Lease before = other.lock("jobs/j").acquire(LONG)) {
            CompletableFuture<Integer> exit = start("jobs/j", "--json", "--count", "3", "--backend", backend);
            awaitLine("{\"type\":\"STATE\"");
            before.release();
            awaitLine("{\"type\":\"RELEASED\"");
            Lease lease = other.lock("jobs/j").acquire(LONG);
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);

            List<JsonNode> events = new ArrayList<>();
            for (String line : lines()) {
                events.add(mapper.readTree(line));
            }
            assertThat(events).hasSize(3);
            for (JsonNode e : events) {
                assertThat(e.fieldNames())
                        .toIterable()
                        .contains("type", "name", "session", "token", "mode", "cause", "version", "value")
                        .contains("valueBase64", "counter", "position");
                assertThat(e.get("position").asText()).isNotEmpty();
            }
            JsonNode state = events.get(0);
            assertThat(state.get("name").asText()).isEqualTo("jobs/j");
            JsonNode holder = state.get("locks").get(0).get("holders").get(0);
            assertThat(holder.get("token").asLong()).isEqualTo(before.fencingToken());
            assertThat(holder.get("sessionId").asText()).isEqualTo(other.sessionId());
            JsonNode released = events.get(1);
            assertThat(released.get("token").asLong()).isEqualTo(before.fencingToken());
            assertThat(released.get("cause").isTextual()).isTrue();
            assertThat(released.has("locks")).as("only STATE has locks").isFalse();
            JsonNode acquired = events.get(2);
            assertThat(acquired.get("type").asText()).isEqualTo("ACQUIRED");
            assertThat(acquired.get("token").asLong()).isEqualTo(lease.fencingToken());
            assertThat(acquired.get("session").asText()).isEqualTo(other.sessionId());
            assertThat(acquired.get("mode").asText()).isEqualTo("exclusive");
            assertThat(acquired.get("cause").isNull()).isTrue();
            assertThat(acquired.get("version").isNull()).as("not a register").isTrue();
        }
    }

    @Test
    void aRegistersValueIsTextWhenItIsUtf8AndBase64Otherwise() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        byte[] binary = {(byte) 0xff, 0, 1};
        try (LockClient other = LockClient.open(backend)) {
            CompletableFuture<Integer> exit =
                    start("--register", "config/db", "--json", "--count", "3", "--backend", backend);
            awaitLine("{\"type\":\"STATE\"");
            other.register("config/db").compareAndSet(0, "primary \"2\"\n".getBytes(StandardCharsets.UTF_8));
            awaitLine("{\"type\":\"REGISTER_SET\"");
            other.register("config/db").compareAndSet(1, binary);
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);

            List<String> lines = lines();
            assertThat(lines).hasSize(3);
            JsonNode state = mapper.readTree(lines.get(0));
            assertThat(state.get("version").asLong()).isZero();
            assertThat(state.get("value").isNull()).isTrue();
            assertThat(state.get("locks")).isEmpty();
            JsonNode text = mapper.readTree(lines.get(1));
            assertThat(text.get("version").asLong()).isEqualTo(1);
            assertThat(text.get("value").asText()).isEqualTo("primary \"2\"\n");
            assertThat(text.get("valueBase64").asBoolean()).isFalse();
            JsonNode bytes = mapper.readTree(lines.get(2));
            assertThat(bytes.get("version").asLong()).isEqualTo(2);
            assertThat(bytes.get("valueBase64").asBoolean()).isTrue();
            assertThat(Base64.getDecoder().decode(bytes.get("value").asText())).isEqualTo(binary);
        }
        out.getBuffer().setLength(0);
        assertThat(watch("--register", "config/db", "--count", "1", "--backend", backend))
                .isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("STATE config/db version=2 valueBase64=/wAB");
    }

    @Test
    void aPrefixWatchShowsOnlyTheNamesUnderIt() throws Exception {
        try (LockClient other = LockClient.open(backend);
                Lease outside = other.lock("other/y").acquire(LONG)) {
            CompletableFuture<Integer> exit = start("jobs/*", "--count", "3", "--backend", backend);
            awaitLine("STATE");
            Lease otherLease = other.lock("other/x").acquire(LONG);
            Lease inside = other.lock("jobs/b").acquire(LONG);
            awaitLine("ACQUIRED jobs/b");
            otherLease.release();
            inside.release();
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
            assertThat(lines()).hasSize(3);
            assertThat(lines().get(0)).isEqualTo("STATE jobs/* free");
            assertThat(lines().get(1)).startsWith("ACQUIRED jobs/b ");
            assertThat(lines().get(2)).startsWith("RELEASED jobs/b ");

            out.getBuffer().setLength(0);
            assertThat(watch("*", "--count", "1", "--backend", backend)).isEqualTo(ExitCodes.OK);
            assertThat(lines())
                    .as("'*' alone: every lock")
                    .containsExactly("STATE other/y held session=" + other.sessionId() + " token="
                            + outside.fencingToken() + " mode=EXCLUSIVE");
        }
    }

    @Test
    void countAndTimeoutExitZero() {
        assertThat(watch("jobs/c", "--count", "1", "--backend", backend)).isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("STATE jobs/c free");

        out.getBuffer().setLength(0);
        long started = System.nanoTime();
        assertThat(watch("jobs/c", "--timeout", "1s", "--backend", backend)).isEqualTo(ExitCodes.OK);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(lines()).containsExactly("STATE jobs/c free");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void untilFreeExitsZeroOnceReleasedAnd75WhenStillHeldAtTheTimeout() throws Exception {
        try (LockClient other = LockClient.open(backend)) {
            Lease lease = other.lock("jobs/d").acquire(LONG);
            CompletableFuture<Integer> exit = start("jobs/d", "--until-free", "--backend", backend);
            awaitLine("STATE jobs/d held");
            assertThat(exit).isNotDone();
            lease.release();
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
            assertThat(lines()).last().asString().startsWith("RELEASED jobs/d ");

            out.getBuffer().setLength(0);
            try (Lease held = other.lock("jobs/e").acquire(LONG)) {
                assertThat(watch("jobs/e", "--until-free", "--timeout", "1s", "--backend", backend))
                        .isEqualTo(ExitCodes.NOT_ACQUIRED);
                assertThat(lines())
                        .containsExactly("STATE jobs/e held session=" + other.sessionId() + " token="
                                + held.fencingToken() + " mode=EXCLUSIVE");
                assertThat(err.toString().lines()).containsExactly("holdfast watch: 'jobs/e' was still held after 1s");
            }
        }
        err.getBuffer().setLength(0);
        assertThat(watch("jobs/free", "--until-free", "--timeout", "5s", "--backend", backend))
                .as("free from the start")
                .isEqualTo(ExitCodes.OK);
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void badArgumentsAreOneLineUsageErrors() {
        assertUsage("name must not be empty", "", "--backend", backend);
        assertUsage("give one lock NAME", "--backend", backend);
        assertUsage("give one lock NAME", "jobs/a", "--register", "k", "--backend", backend);
        assertUsage("--until-free needs one lock NAME", "jobs/*", "--until-free", "--backend", backend);
        assertUsage("--count must be at least 1", "jobs/a", "--count", "0", "--backend", backend);
        assertUsage("'..' segment: a/../b", "a/../b", "--backend", backend);
        assertUsage("--timeout", "jobs/a", "--timeout", "1.5s", "--backend", backend);
        assertUsage(
                "needs INSPECT, which this provider does not offer",
                "jobs/a",
                "--backend",
                "fake:watch-" + STORES.incrementAndGet());
        assertThat(out.toString()).isEmpty();
    }

    private void assertUsage(String message, String... args) {
        err.getBuffer().setLength(0);
        assertThat(watch(args)).as(String.join(" ", args)).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast watch: ")
                .contains(message);
    }

    /** The CLI as a process: SIGTERM ends the watch with 0 after what it printed. */
    @Test
    void sigtermEndsAWatchWithZero() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(
                        java.toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "watch",
                        "jobs/sig",
                        "--backend",
                        "mem:sig")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try (BufferedReader stdout =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line = stdout.readLine();
            while (line != null && !line.startsWith("STATE")) {
                line = stdout.readLine();
            }
            assertThat(line).as("flushed before the signal").isEqualTo("STATE jobs/sig free");
            process.destroy();
            assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).isEqualTo(ExitCodes.OK);
        } finally {
            process.destroyForcibly();
        }
    }
}
