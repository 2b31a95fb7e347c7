package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IntruderTest {
    @TempDir
    Path dir;

    private final String uri = "mem:intruder-" + UUID.randomUUID().toString().substring(0, 8);
    private final Duration bound = Duration.ofSeconds(3);

    @Test
    void aCorrectServiceRefusesToReleaseSomeoneElsesLease() throws Exception {
        Path file = dir.resolve("x1.jsonl");
        long token;
        try (LockClient victim = LockClient.open(uri, opts("victim"));
                LockClient own = LockClient.open(uri, opts("x1"));
                History.Writer w = new History.Writer(file)) {
            Lease lease = victim.lock("lock-0").acquire(Duration.ofSeconds(1));
            Intruder x = new Intruder(
                    new Recorder("x1", w), () -> own, Intruder.serviceFor(uri, bound), Duration.ofSeconds(3), 1, bound);
            try {
                assertThat(x.attempt("lock-1")).as("no holder: nothing sent").isEmpty();
                assertThat(x.attempt("lock-0")).contains(new Result.Refused("NOT_OWNER"));
                token = lease.fencingToken();
                assertThat(lease.isValid()).isTrue();
                assertThat(victim.admin()
                                .describe("lock-0")
                                .map(LockInfo::holders)
                                .orElseThrow())
                        .singleElement()
                        .satisfies(h -> assertThat(h.fencingToken()).isEqualTo(lease.fencingToken()));
                lease.release();
            } finally {
                x.close();
            }
        }
        List<Record> records = History.read(file);
        assertThat(records).hasSize(2);
        assertThat(((Op) records.get(0)).type()).isEqualTo(Op.Type.INVOKE);
        assertThat(((Op) records.get(1)).call()).isEqualTo(new Call.ForeignRelease("lock-0", token));
        assertThat(((Op) records.get(1)).result()).isEqualTo(new Result.Refused("NOT_OWNER"));
    }

    @Test
    void aServiceThatObeysTheIntruderIsRecordedOk() throws Exception {
        try (History.Writer w = new History.Writer(dir.resolve("x1.jsonl"))) {
            List<Command> sent = new ArrayList<>();
            Intruder x = new Intruder(
                    new Recorder("x1", w), () -> null, new Obliging(sent), Duration.ofSeconds(3), 1, bound);
            Result done = x.release("session-of-the-intruder-0", "lock-0", 42);
            x.close();

            assertThat(done).isEqualTo(new Result.Released());
            assertThat(sent).singleElement().isInstanceOfSatisfying(Command.Release.class, r -> {
                assertThat(r.name()).isEqualTo("lock-0");
                assertThat(r.token()).isEqualTo(42);
                assertThat(r.invocation().sessionId()).isEqualTo("session-of-the-intruder-0");
            });
        }
    }

    /**
     * The warm-up opens the intruder's session before the workload, recording nothing, and the
     * first attempt then uses that session instead of opening one (a CI run's first foreign release
     * came 6 s into a 5 s workload when the session opened in the workload).
     */
    @Test
    void theWarmUpOpensTheSessionBeforeTheWorkloadAndRecordsNothing() throws Exception {
        Path file = dir.resolve("x1.jsonl");
        List<Command> sent = new ArrayList<>();
        try (History.Writer w = new History.Writer(file)) {
            Intruder x = new Intruder(
                    new Recorder("x1", w), () -> null, new Obliging(sent), Duration.ofSeconds(3), 1, bound);
            x.warmUp(); // its describe fails here (no client): left for the attempts
            assertThat(sent)
                    .singleElement()
                    .isInstanceOfSatisfying(
                            Command.OpenSession.class,
                            o -> assertThat(o.sessionId()).matches("[A-Za-f][A-Za-z0-9_-]{21}"));
            assertThat(x.started()).isFalse();
            x.close();
        }
        assertThat(History.read(file)).isEmpty();
        assertThat(sent).hasSize(2).last().isInstanceOf(Command.CloseSession.class);
    }

    @Test
    void againstARunningWorkloadEveryForeignReleaseIsRefused() throws Exception {
        Path file = dir.resolve("all.jsonl");
        MemoryStore fenced = new MemoryStore("fenced", true);
        MemoryStore unfenced = new MemoryStore("unfenced", false);
        try (LockClient c1 = LockClient.open(uri, opts("c1"));
                LockClient own = LockClient.open(uri, opts("x1"));
                History.Writer w = new History.Writer(file)) {
            Workload wl = new Workload(new Recorder("c1", w), () -> c1, fenced, unfenced, 7, bound);
            Intruder x = new Intruder(
                    new Recorder("x1", w), () -> own, Intruder.serviceFor(uri, bound), Duration.ofSeconds(3), 7, bound);
            wl.start();
            x.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (x.attempts() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            x.stop();
            x.close();
            wl.stop();
            assertThat(x.attempts()).isGreaterThanOrEqualTo(5);
        }
        List<Op> ops = new ArrayList<>();
        History.read(file).forEach(r -> ops.add((Op) r));
        assertThat(WellFormed.ops(ops)).isEmpty();
        assertThat(ops)
                .filteredOn(op -> op.isCompletion() && op.call() instanceof Call.ForeignRelease)
                .hasSizeGreaterThanOrEqualTo(5)
                .allMatch(op -> op.result().equals(new Result.Refused("NOT_OWNER")));
        assertThat(ops)
                .as("no lease lost (a VALID notice is the workload asking its own lease)")
                .noneMatch(op -> op.call() instanceof Call.Lost);
    }

    private static ClientOptions opts(String name) {
        return ClientOptions.builder()
                .clientName(name)
                .sessionTtl(Duration.ofSeconds(3))
                .requestTimeout(Duration.ofSeconds(2))
                .build();
    }

    /** A broken service that applies every release, whoever sends it. */
    private static final class Obliging implements LockService {
        private final List<Command> sent;

        Obliging(List<Command> sent) {
            this.sent = sent;
        }

        @Override
        public CompletableFuture<Reply> submit(Command command) {
            sent.add(command);
            return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        }

        @Override
        public CompletableFuture<Reply> keepAlive(String sessionId) {
            return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        }

        @Override
        public void subscribe(String sessionId, Listener listener) {}

        @Override
        public void unsubscribe(String sessionId) {}

        @Override
        public CompletableFuture<Optional<LockInfo>> describe(String name) {
            return CompletableFuture.completedFuture(Optional.empty());
        }

        @Override
        public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
            return CompletableFuture.completedFuture(List.of());
        }

        @Override
        public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
            return CompletableFuture.completedFuture(Optional.empty());
        }

        @Override
        public void close() {}
    }
}
