package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.verify.check.CheckResult;
import io.holdfast.verify.check.KeysChecker;
import io.holdfast.verify.check.LinearizabilityChecker;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys workload against {@code mem:}, a correct service without faults: its history passes the keys checks. */
class KeysWorkloadTest {
    @TempDir
    Path dir;

    private final String uri = "mem:keys-" + UUID.randomUUID().toString().substring(0, 8);

    /**
     * Runs once the client serves keys: until the client runtime's keys are wired, {@code keys()}
     * refuses with {@link UnsupportedFeatureException} and the test is skipped, saying so.
     */
    @Test
    void threeWorkersLeaveAHistoryThatPassesTheKeysChecks() throws Exception {
        try (LockClient probe = LockClient.open(uri)) {
            probe.keys().get(KeysWorkload.A);
        } catch (UnsupportedFeatureException e) {
            Assumptions.abort("the client does not serve keys yet: " + e.getMessage());
        }
        List<Record> records = runWorkers(3, 60);
        List<Op> ops = records.stream().map(r -> (Op) r).toList();

        // a short session's grant of members-lock ends with the session, not with a release
        Set<String> sessionGrants = ops.stream()
                .filter(op -> op.isCompletion() && KeysWorkload.MEMBERS_LOCK.equals(op.key()))
                .filter(op -> op.result() instanceof Result.Granted)
                .map(op -> "grant never given back: " + op.process() + ":" + ((Result.Granted) op.result()).token())
                .collect(Collectors.toSet());
        assertThat(WellFormed.ops(ops)).allMatch(sessionGrants::contains);
        assertThat(ops).as("fenced transfers that ran").anyMatch(op -> ran(op, true) && txn(op).fenceLock() != null);
        assertThat(ops)
                .as("unfenced transfers that ran")
                .anyMatch(op -> ran(op, true)
                        && txn(op).fenceLock() == null
                        && !txn(op).puts().isEmpty());
        assertThat(ops).as("attached keys").anyMatch(op -> ran(op, true) && txn(op).attached());
        assertThat(ops).anyMatch(op -> op.isCompletion() && op.call() instanceof Call.KeyList);
        assertThat(ops).noneMatch(op -> op.isCompletion() && op.result() instanceof Result.Unknown);

        CheckResult linear = new LinearizabilityChecker().check(records);
        assertThat(linear.status()).as(linear.toString()).isEqualTo(CheckResult.Status.PASS);
        CheckResult keys = new KeysChecker().check(records);
        assertThat(keys.status()).as(keys.toString()).isEqualTo(CheckResult.Status.PASS);
        assertThat(keys.counts().get("sums read")).isPositive();
        assertThat(keys.counts().get("session keys")).isPositive();
        assertThat(keys.counts().get("session key reads")).isPositive();
        // every worker joined the group first, and its reads of the members were checked
        assertThat(ops)
                .filteredOn(op -> op.call() instanceof Call.Member m && Call.Member.JOINED.equals(m.event()))
                .hasSize(3);
        assertThat(keys.counts().get("lifetime reads checked")).isPositive();
    }

    private static boolean ran(Op op, boolean succeeded) {
        return op.isCompletion() && op.result() instanceof Result.Transacted t && t.succeeded() == succeeded;
    }

    private static Call.KeyTxn txn(Op op) {
        return (Call.KeyTxn) op.call();
    }

    /** Runs workers until each did {@code minOps} operations; their records in time order. */
    private List<Record> runWorkers(int n, int minOps) throws Exception {
        List<LockClient> clients = new ArrayList<>();
        List<History.Writer> writers = new ArrayList<>();
        List<KeysWorkload> workloads = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try {
            for (int i = 1; i <= n; i++) {
                String name = "c" + i;
                Supplier<LockClient> opener = () -> LockClient.open(
                        uri,
                        ClientOptions.builder()
                                .clientName(name)
                                .sessionTtl(Duration.ofSeconds(3))
                                .requestTimeout(Duration.ofSeconds(2))
                                .build());
                LockClient client = opener.get();
                clients.add(client);
                Path file = dir.resolve(name + ".jsonl");
                files.add(file);
                History.Writer w = new History.Writer(file);
                writers.add(w);
                workloads.add(new KeysWorkload(
                        new Recorder(name, w), () -> client, opener, opener, 2000 + i, Duration.ofSeconds(3)));
            }
            workloads.forEach(KeysWorkload::start);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (workloads.stream().anyMatch(wl -> wl.operations() < minOps) && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(20);
            }
            for (KeysWorkload wl : workloads) {
                wl.stop();
                assertThat(wl.operations()).isGreaterThanOrEqualTo(minOps);
            }
        } finally {
            clients.forEach(LockClient::close);
            for (History.Writer w : writers) {
                w.close();
            }
        }
        List<Record> records = new ArrayList<>();
        for (Path f : files) { // file order per process: invoke before completion even at equal times
            records.addAll(History.read(f));
        }
        records.sort(Comparator.comparingLong(Record::time));
        return records;
    }
}
