package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadTest {
    @TempDir
    Path dir;

    private final String uri = "mem:workload-" + UUID.randomUUID().toString().substring(0, 8);
    private final MemoryStore fenced = new MemoryStore(StoreWrite.FENCED, true);
    private final MemoryStore unfenced = new MemoryStore(StoreWrite.UNFENCED, false);

    @Test
    void threeWorkersLeaveAWellFormedHistoryAndMatchedStoreWrites() throws Exception {
        List<Op> ops = runWorkers(3, 25, false, () -> {});

        assertThat(WellFormed.ops(ops)).isEmpty();
        assertThat(WellFormed.store(fenced.writes(), ops)).isEmpty();
        assertThat(WellFormed.store(unfenced.writes(), ops)).isEmpty();
        assertThat(fenced.writes()).isNotEmpty().allMatch(StoreWrite::accepted);
        assertThat(unfenced.writes()).hasSameSizeAs(fenced.writes());
        assertThat(ops).allMatch(op -> Workload.PHASE.equals(op.phase()));
        assertThat(ops.stream().map(Op::process).distinct()).containsExactlyInAnyOrder("c1", "c2", "c3");
        for (Op.Kind kind : List.of(Op.Kind.LOCK, Op.Kind.READ, Op.Kind.WRITE, Op.Kind.SEMAPHORE)) {
            assertThat(grants(ops)).as("a granted %s", kind).anyMatch(target -> target.kind() == kind);
        }
        assertThat(ops).anyMatch(op -> op.isCompletion() && op.result() instanceof Result.Written);
        assertThat(grants(ops))
                .filteredOn(target -> target.kind() == Op.Kind.SEMAPHORE)
                .allMatch(target -> target.limit() == 2 && target.permits() == 1);
        // mem: is a correct service without faults: no outcome is in doubt
        assertThat(ops).noneMatch(WorkloadTest::unknown);
    }

    @Test
    void revokedLeasesShowAsLostNoticesAndLostReleases() throws Exception {
        try (LockClient operator = LockClient.open(uri)) {
            List<Op> ops = runWorkers(
                    2,
                    30,
                    false,
                    () -> Workload.LOCKS.forEach(l -> operator.admin().revoke(l)));

            assertThat(WellFormed.ops(ops)).isEmpty();
            assertThat(ops).anyMatch(op -> op.call() instanceof Call.Lost);
            assertThat(ops)
                    .filteredOn(op -> op.isCompletion()
                            && op.call() instanceof Call.Release
                            && op.result() instanceof Result.Refused)
                    .isNotEmpty()
                    .allMatch(op -> op.result().equals(new Result.Refused(Result.Refused.LOST)));
        }
    }

    @Test
    void multiLocksAreRecordedAsOneAcquirePerLockInvokedTogether() throws Exception {
        List<Op> ops = runWorkers(3, 40, true, () -> {});

        assertThat(WellFormed.ops(ops)).isEmpty();
        assertThat(WellFormed.store(fenced.writes(), ops)).isEmpty();
        assertThat(fenced.writes()).allMatch(StoreWrite::accepted);
        // A multi-lock: two LOCK acquires of one process invoked one after the other, before
        // either completes, and granted with consecutive tokens (one step of the lock table).
        int together = 0;
        for (int i = 0; i + 1 < ops.size(); i++) {
            Op a = ops.get(i);
            Op b = ops.get(i + 1);
            if (a.type() == Op.Type.INVOKE
                    && b.type() == Op.Type.INVOKE
                    && a.call() instanceof Call.Acquire
                    && b.call() instanceof Call.Acquire
                    && a.process().equals(b.process())) {
                assertThat(a.call().key()).isLessThan(b.call().key());
                Result doneA = result(ops, a);
                Result doneB = result(ops, b);
                assertThat(doneA.type()).isEqualTo(doneB.type());
                if (doneA instanceof Result.Granted ga && doneB instanceof Result.Granted gb) {
                    assertThat(gb.token()).isEqualTo(ga.token() + 1);
                    together++;
                }
            }
        }
        assertThat(together).as("granted multi-locks").isPositive();
        assertThat(ops).noneMatch(WorkloadTest::unknown);
    }

    /** What each granted acquire holds. */
    private static List<Call.Target> grants(List<Op> ops) {
        return ops.stream()
                .filter(op -> op.isCompletion() && op.result() instanceof Result.Granted)
                .map(op -> ((Call.Acquire) op.call()).target())
                .toList();
    }

    private static boolean unknown(Op op) {
        return op.isCompletion() && op.result() instanceof Result.Unknown;
    }

    private static Result result(List<Op> ops, Op invoke) {
        return ops.stream()
                .filter(op -> op.isCompletion() && op.id().equals(invoke.id()))
                .findFirst()
                .orElseThrow()
                .result();
    }

    /** Runs workers until each did {@code minOps} operations (calling {@code meanwhile} in between). */
    private List<Op> runWorkers(int n, int minOps, boolean multiLocks, Runnable meanwhile) throws Exception {
        List<LockClient> clients = new ArrayList<>();
        List<History.Writer> writers = new ArrayList<>();
        List<Workload> workloads = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try {
            for (int i = 1; i <= n; i++) {
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
                Workload wl = new Workload(
                        new Recorder("c" + i, w), () -> client, fenced, unfenced, 1000 + i, Duration.ofSeconds(3));
                if (multiLocks) {
                    wl.takeMultiLocks();
                }
                workloads.add(wl);
            }
            workloads.forEach(Workload::start);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (workloads.stream().anyMatch(wl -> wl.operations() < minOps) && System.nanoTime() < deadline) {
                meanwhile.run();
                TimeUnit.MILLISECONDS.sleep(20);
            }
            for (Workload wl : workloads) {
                wl.stop();
                assertThat(wl.storeFailures()).isZero();
                assertThat(wl.operations()).isGreaterThanOrEqualTo(minOps);
            }
        } finally {
            clients.forEach(LockClient::close);
            for (History.Writer w : writers) {
                w.close();
            }
        }
        List<Op> ops = new ArrayList<>();
        for (Path f : files) { // file order per process: invoke before completion even at equal times
            for (Record r : History.read(f)) {
                ops.add((Op) r);
            }
        }
        return ops;
    }
}
