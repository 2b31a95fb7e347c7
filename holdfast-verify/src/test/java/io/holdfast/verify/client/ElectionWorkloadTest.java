package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.verify.check.CheckResult;
import io.holdfast.verify.check.ElectionChecker;
import io.holdfast.verify.check.LeaseChecker;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Candidates and observers of {@link ElectionWorkload} and {@link ElectionObserver} on a real
 * in-memory service ({@code mem:}), with an operator revoking the leaders' locks again and again
 * (each revocation ends a leadership: its client tells the leader, and the next candidate is
 * elected). The recorded history goes through the checker of the {@code election} scenario.
 */
class ElectionWorkloadTest {
    @TempDir
    Path dir;

    private final String uri = "mem:elections-" + UUID.randomUUID().toString().substring(0, 8);
    private final MemoryStore fenced = new MemoryStore(StoreWrite.FENCED, true);
    private final MemoryStore unfenced = new MemoryStore(StoreWrite.UNFENCED, false);

    @Test
    void correctLeadersStopOnTheirLossAndTheHistoryPassesTheChecker() throws Exception {
        List<Record> records = run(false);
        List<Op> ops = ops(records);

        assertThat(WellFormed.ops(ops)).isEmpty();
        CheckResult r = new ElectionChecker().check(records);
        assertThat(r.violations()).isEmpty();
        assertThat(r.status()).isEqualTo(CheckResult.Status.PASS);
        assertThat(r.counts().get("leaderships")).isGreaterThanOrEqualTo(3L);
        assertThat(r.counts().get("losses told")).isPositive();
        assertThat(r.counts().get("leaders observed")).isPositive();
        assertThat(new LeaseChecker().check(records).status()).isEqualTo(CheckResult.Status.PASS);
        // every write carries the epoch its campaign was granted, and each campaign proclaimed itself
        Map<String, Long> epochs = new HashMap<>();
        for (Op op : ops) {
            if (op.isCompletion() && op.result() instanceof Result.Granted elected) {
                epochs.put(op.id(), elected.token());
            }
        }
        assertThat(fenced.writes()).isNotEmpty().allMatch(w -> epochs.get(w.process() + ":" + w.seq()) == w.token());
        assertThat(ops.stream().map(Op::call))
                .filteredOn(call -> call instanceof Call.Observed seen && seen.value() != null)
                .isNotEmpty()
                .map(Call.Observed.class::cast)
                .allMatch(seen -> epochs.containsKey(seen.value()) && epochs.get(seen.value()) == seen.epoch());
    }

    @Test
    void withThePlantedBugALeaderActsAfterItsLossAndTheCheckerNamesIt() throws Exception {
        List<Record> records = run(true);

        assertThat(WellFormed.ops(ops(records))).isEmpty();
        CheckResult r = new ElectionChecker().check(records);
        assertThat(r.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(r.violations())
                .isNotEmpty()
                .allSatisfy(v -> assertThat(v).contains("after it knew its leadership was over"));
    }

    /**
     * Three candidates (c1 observing both elections) until each ran 3 campaigns and 4 revocations
     * ended a leadership; returns everything recorded, stores included, ordered by time.
     */
    private List<Record> run(boolean ignoresLoss) throws Exception {
        List<LockClient> clients = new ArrayList<>();
        List<History.Writer> writers = new ArrayList<>();
        List<ElectionWorkload> candidates = new ArrayList<>();
        List<ElectionObserver> observers = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try (LockClient operator = LockClient.open(uri)) {
            for (int i = 1; i <= 3; i++) {
                LockClient client = LockClient.open(
                        uri,
                        ClientOptions.builder()
                                .clientName("c" + i)
                                .sessionTtl(Duration.ofSeconds(3))
                                .requestTimeout(Duration.ofSeconds(2))
                                .build());
                clients.add(client);
                Path file = dir.resolve("c" + i + ".jsonl");
                files.add(file);
                History.Writer w = new History.Writer(file);
                writers.add(w);
                Recorder rec = new Recorder("c" + i, w);
                candidates.add(new ElectionWorkload(
                        rec, () -> client, fenced, unfenced, 2000 + i, Duration.ofSeconds(3), ignoresLoss));
                if (i == 1) {
                    for (String e : ElectionWorkload.ELECTIONS) {
                        observers.add(new ElectionObserver(rec, () -> client, e));
                    }
                }
            }
            observers.forEach(ElectionObserver::start);
            candidates.forEach(ElectionWorkload::start);
            int revoked = 0;
            int round = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((revoked < 4 || candidates.stream().anyMatch(c -> c.operations() < 3))
                    && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(250);
                revoked += operator.admin().revoke(ElectionWorkload.ELECTIONS.get(round++ % 2));
            }
            for (ElectionWorkload c : candidates) {
                c.stop();
                assertThat(c.storeFailures()).isZero();
            }
            for (ElectionObserver o : observers) {
                o.stop();
            }
            assertThat(revoked).as("leaderships revoked").isGreaterThanOrEqualTo(4);
        } finally {
            clients.forEach(LockClient::close);
            for (History.Writer w : writers) {
                w.close();
            }
        }
        List<Record> all = new ArrayList<>();
        for (Path f : files) {
            all.addAll(History.read(f));
        }
        all.addAll(fenced.writes());
        all.addAll(unfenced.writes());
        all.sort(Comparator.comparingLong(Record::time));
        return all;
    }

    private static List<Op> ops(List<Record> records) {
        return records.stream().filter(Op.class::isInstance).map(Op.class::cast).toList();
    }
}
