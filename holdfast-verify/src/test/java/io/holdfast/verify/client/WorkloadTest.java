package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
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
            assertThat(ops)
                    .as("a granted %s", kind)
                    .anyMatch(op -> op.type() == Op.Type.OK && op.f() == Op.Fn.ACQUIRE && op.kind() == kind);
        }
        assertThat(ops).anyMatch(op -> op.type() == Op.Type.OK && op.f() == Op.Fn.REG_CAS);
        assertThat(ops)
                .filteredOn(op -> op.f() == Op.Fn.ACQUIRE && op.type() == Op.Type.OK && op.kind() == Op.Kind.SEMAPHORE)
                .allMatch(op -> op.limit() == 2 && op.permits() == 1);
        // mem: is a correct service without faults: no outcome is in doubt
        assertThat(ops).noneMatch(op -> op.type() == Op.Type.UNKNOWN);
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
            assertThat(ops).anyMatch(op -> op.type() == Op.Type.NOTICE && op.f() == Op.Fn.LOST);
            assertThat(ops)
                    .filteredOn(op -> op.f() == Op.Fn.RELEASE && op.type() == Op.Type.FAIL)
                    .isNotEmpty()
                    .allMatch(op -> "LOST".equals(op.error()));
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
            if (a.f() == Op.Fn.ACQUIRE
                    && b.f() == Op.Fn.ACQUIRE
                    && a.type() == Op.Type.INVOKE
                    && b.type() == Op.Type.INVOKE
                    && a.process().equals(b.process())) {
                assertThat(a.key()).isLessThan(b.key());
                Op doneA = completion(ops, a);
                Op doneB = completion(ops, b);
                assertThat(doneA.type()).isEqualTo(doneB.type());
                if (doneA.type() == Op.Type.OK) {
                    assertThat(doneB.token()).isEqualTo(doneA.token() + 1);
                    together++;
                }
            }
        }
        assertThat(together).as("granted multi-locks").isPositive();
        assertThat(ops).noneMatch(op -> op.type() == Op.Type.UNKNOWN);
    }

    private static Op completion(List<Op> ops, Op invoke) {
        return ops.stream()
                .filter(op -> op.process().equals(invoke.process())
                        && op.seq() == invoke.seq()
                        && op.type() != Op.Type.INVOKE
                        && op.f() == invoke.f())
                .findFirst()
                .orElseThrow();
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
