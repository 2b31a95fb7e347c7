package io.holdfast.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedSemaphore;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.UnsupportedFeatureException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The handles' checks, the same for every engine, run on the shared code over a recording acquirer. */
class HandlesTest {
    /** An engine that grants everything at once and records what it was asked. */
    static final class RecordingAcquirer implements Acquirer {
        final Set<Capability> capabilities;
        final List<String> calls = new ArrayList<>();
        final ManualHost host = new ManualHost();

        RecordingAcquirer(Set<Capability> capabilities) {
            this.capabilities = capabilities;
        }

        @Override
        public String provider() {
            return "test";
        }

        @Override
        public Set<Capability> capabilities() {
            return capabilities;
        }

        private Lease grant(String how, LeaseRequest r) {
            calls.add(how + " " + r);
            return new TestLease(host, host.nanos());
        }

        @Override
        public Lease acquire(LeaseRequest request, AcquireOptions options) {
            return grant("acquire", request);
        }

        @Override
        public Optional<Lease> tryAcquire(LeaseRequest request) {
            return Optional.of(grant("try", request));
        }

        @Override
        public CompletableFuture<Lease> acquireAsync(LeaseRequest request, AcquireOptions options) {
            return CompletableFuture.completedFuture(grant("async", request));
        }
    }

    // ---- drift 4: a missing capability is refused when the handle is created

    @Test
    void aSemaphoreWithoutTheCapabilityIsRefusedWhenTheHandleIsCreated() {
        RecordingAcquirer engine = new RecordingAcquirer(EnumSet.noneOf(Capability.class));
        assertThatThrownBy(() -> Handles.semaphore(engine, "slots", 4))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessage("the test provider does not support semaphores");
    }

    @Test
    void aReadWriteLockWithoutTheCapabilityIsRefusedWhenTheHandleIsCreated() {
        RecordingAcquirer engine = new RecordingAcquirer(EnumSet.noneOf(Capability.class));
        assertThatThrownBy(() -> Handles.readWriteLock(engine, "catalog"))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessage("the test provider does not support read-write locks");
    }

    @Test
    void aLeaseTimeoutWithoutTheCapabilityIsRefusedBeforeTheEngineIsAsked() throws Exception {
        RecordingAcquirer engine = new RecordingAcquirer(EnumSet.noneOf(Capability.class));
        AcquireOptions withTimeout =
                AcquireOptions.waitUpTo(Duration.ofSeconds(1)).withLeaseTimeout(Duration.ofSeconds(5));
        var lock = Handles.lock(engine, "orders/42");

        assertThatThrownBy(() -> lock.acquire(withTimeout)).isInstanceOf(UnsupportedFeatureException.class);
        assertThatThrownBy(() -> lock.acquireAsync(withTimeout)).isInstanceOf(UnsupportedFeatureException.class);
        assertThat(engine.calls).isEmpty();
        assertThat(lock.acquire(Duration.ofSeconds(1)).isValid()).isTrue();
    }

    @Test
    void handlesOfADeclaredCapabilityReachTheEngineWithTheirRequest() throws Exception {
        RecordingAcquirer engine = new RecordingAcquirer(
                EnumSet.of(Capability.SEMAPHORE, Capability.READ_WRITE, Capability.LEASE_TIMEOUT));
        DistributedSemaphore slots = Handles.semaphore(engine, "slots", 4);
        var rw = Handles.readWriteLock(engine, "catalog");

        slots.tryAcquire(2);
        rw.readLock().acquire(Duration.ZERO);
        rw.writeLock().acquireAsync(Duration.ofSeconds(1)).join();

        assertThat(engine.calls)
                .containsExactly(
                        "try " + new LeaseRequest("slots", LockMode.PERMITS, 2, 4),
                        "acquire " + new LeaseRequest("catalog", LockMode.SHARED, 1, 1),
                        "async " + new LeaseRequest("catalog", LockMode.EXCLUSIVE, 1, 1));
    }

    // ---- arguments

    @Test
    void argumentsAreCheckedBeforeTheEngineIsAsked() {
        RecordingAcquirer engine = new RecordingAcquirer(EnumSet.of(Capability.SEMAPHORE));
        DistributedSemaphore slots = Handles.semaphore(engine, "slots", 4);

        assertThatThrownBy(() -> slots.tryAcquire(5)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> slots.tryAcquire(0)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> slots.acquire(1, (AcquireOptions) null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> Handles.lock(engine, "x").acquireAsync((AcquireOptions) null))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> Handles.semaphore(engine, "slots", 0)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> Handles.lock(engine, "")).isInstanceOf(InvalidArgumentException.class);
        assertThat(engine.calls).isEmpty();
    }
}
