package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockClient;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Many threads of one client send requests at once. Each request's sequence number must be
 * outstanding before a later one is built, or the later one tells the service that the earlier one
 * was acknowledged and the earlier one is refused ("already acknowledged"). Found by the register
 * contract test under Raft; without the fix this test failed three runs out of three.
 */
class ConcurrentRequestsTest {
    private static final int THREADS = 8;
    private static final int WRITES = 200;

    @Test
    void concurrentRequestsOfOneClientAreNeverRefusedAsAlreadyAcknowledged() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (LockClient client = LockClient.open("mem:concurrent-requests")) {
            for (int round = 0; round < 30; round++) {
                List<VersionedRegister> registers = new ArrayList<>();
                List<Future<?>> writers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    VersionedRegister reg = client.register("round-" + round + "/writer-" + t);
                    registers.add(reg);
                    writers.add(pool.submit(() -> {
                        for (int i = 0; i < WRITES; i++) {
                            long version = reg.get().map(Versioned::version).orElse(0L);
                            reg.compareAndSet(version, new byte[] {(byte) i}); // one writer: never a conflict
                        }
                        return null;
                    }));
                }
                for (Future<?> w : writers) {
                    w.get(30, TimeUnit.SECONDS); // rethrows a refused request
                }
                for (VersionedRegister reg : registers) {
                    assertThat(reg.get().orElseThrow().version()).isEqualTo(WRITES);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
