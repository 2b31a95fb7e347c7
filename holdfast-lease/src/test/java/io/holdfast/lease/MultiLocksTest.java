package io.holdfast.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DeadlockException;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.MultiLease;
import io.holdfast.UnsupportedFeatureException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How the multi-lock handle uses an engine that takes every name in one step ({@link
 * GroupAcquirer}): the one step when the engine takes it; name by name when it says it cannot yet
 * (a cluster not on protocol version 2); and again from the start when, taken name by name, it meets
 * another client's one-step wait in a deadlock. The engine here answers from a script, to reach the
 * moments a real cluster reaches only in its first second or during an upgrade.
 */
class MultiLocksTest {
    private static final List<String> NAMES = List.of("m/a", "m/b");

    /** Answers each call from the script: a lease, or the exception to throw. */
    private static class ScriptedEngine implements Acquirer, GroupAcquirer {
        final ManualHost host = new ManualHost();
        final List<String> calls = new ArrayList<>();
        final Deque<RuntimeException> groupFailures = new ArrayDeque<>();
        final Deque<RuntimeException> singleFailures = new ArrayDeque<>();
        final List<TestLease> granted = new ArrayList<>();
        boolean groupBusy;

        @Override
        public String provider() {
            return "scripted";
        }

        @Override
        public Set<Capability> capabilities() {
            return EnumSet.of(Capability.MULTI_LOCK, Capability.DEADLOCK_DETECTION);
        }

        private TestLease lease() {
            TestLease lease = new TestLease(host, host.nanos());
            granted.add(lease);
            return lease;
        }

        private Lease single(String how, LeaseRequest r) {
            calls.add(how + " " + r.name());
            RuntimeException failure = singleFailures.poll();
            if (failure != null) {
                throw failure;
            }
            return lease();
        }

        @Override
        public Lease acquire(LeaseRequest request, AcquireOptions options) {
            return single("acquire", request);
        }

        @Override
        public Optional<Lease> tryAcquire(LeaseRequest request) {
            return Optional.of(single("try", request));
        }

        @Override
        public CompletableFuture<Lease> acquireAsync(LeaseRequest request, AcquireOptions options) {
            try {
                return CompletableFuture.completedFuture(single("async", request));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }

        private List<Lease> all(String how, List<String> names) {
            calls.add(how + " " + names);
            RuntimeException failure = groupFailures.poll();
            if (failure != null) {
                throw failure;
            }
            if (groupBusy) {
                return null;
            }
            List<Lease> leases = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                leases.add(lease());
            }
            return leases;
        }

        @Override
        public List<Lease> acquireAll(List<String> names, LockMode mode, AcquireOptions options) {
            return all("all", names);
        }

        @Override
        public Optional<List<Lease>> tryAcquireAll(List<String> names, LockMode mode) {
            return Optional.ofNullable(all("try-all", names));
        }

        @Override
        public CompletableFuture<List<Lease>> acquireAllAsync(List<String> names, LockMode mode, AcquireOptions o) {
            try {
                return CompletableFuture.completedFuture(all("async-all", names));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
    }

    private static UnsupportedFeatureException notYet() {
        return new UnsupportedFeatureException("the cluster cannot take this AcquireAll yet");
    }

    private static DeadlockException cycle() {
        return new DeadlockException("waiting for m/b would deadlock", List.of("m/b", "m/a"));
    }

    @Test
    void theOneStepIsUsedWhenTheEngineTakesIt() throws Exception {
        ScriptedEngine engine = new ScriptedEngine();
        MultiLease lease = Handles.multiLock(engine, engine.host::nanos, NAMES, LockMode.EXCLUSIVE)
                .acquire(Duration.ofSeconds(1));
        assertThat(engine.calls).containsExactly("all [m/a, m/b]");
        assertThat(lease.leases()).hasSize(2);
    }

    @Test
    void aClusterNotOnVersionTwoYetGetsTheNamesOneByOne() throws Exception {
        ScriptedEngine engine = new ScriptedEngine();
        engine.groupFailures.add(notYet());
        Handles.multiLock(engine, engine.host::nanos, NAMES, LockMode.EXCLUSIVE).acquire(Duration.ofSeconds(1));
        assertThat(engine.calls).containsExactly("all [m/a, m/b]", "acquire m/a", "acquire m/b");

        engine.calls.clear();
        engine.groupFailures.add(notYet());
        assertThat(Handles.multiLock(engine, engine.host::nanos, NAMES, LockMode.EXCLUSIVE)
                        .tryAcquire())
                .isPresent();
        assertThat(engine.calls).containsExactly("try-all [m/a, m/b]", "try m/a", "try m/b");
    }

    /** An engine whose second single acquire (m/b) meets a deadlock, once. */
    private static ScriptedEngine deadlockOnSecondName() {
        return new ScriptedEngine() {
            private int singles;

            @Override
            public Lease acquire(LeaseRequest request, AcquireOptions options) {
                calls.add("acquire " + request.name());
                if (++singles == 2) {
                    throw cycle();
                }
                TestLease lease = new TestLease(host, host.nanos());
                granted.add(lease);
                return lease;
            }

            @Override
            public CompletableFuture<Lease> acquireAsync(LeaseRequest request, AcquireOptions options) {
                calls.add("async " + request.name());
                if (++singles == 2) {
                    return CompletableFuture.failedFuture(cycle());
                }
                TestLease lease = new TestLease(host, host.nanos());
                granted.add(lease);
                return CompletableFuture.completedFuture(lease);
            }
        };
    }

    @Test
    void aDeadlockMetNameByNameGivesBackAndTriesAgainFromTheStart() throws Exception {
        ScriptedEngine engine = deadlockOnSecondName();
        engine.groupFailures.add(notYet());
        MultiLease lease = Handles.multiLock(engine, engine.host::nanos, NAMES, LockMode.EXCLUSIVE)
                .acquire(Duration.ofSeconds(1));
        assertThat(engine.calls).containsExactly("all [m/a, m/b]", "acquire m/a", "acquire m/b", "all [m/a, m/b]");
        assertThat(engine.granted.get(0).releases)
                .as("m/a, taken name by name, was given back")
                .isEqualTo(1);
        assertThat(lease.leases()).hasSize(2);
    }

    @Test
    void asynchronouslyTooADeadlockMetNameByNameIsTriedAgain() throws Exception {
        ScriptedEngine engine = deadlockOnSecondName();
        engine.groupFailures.add(notYet());
        MultiLease lease = Handles.multiLock(engine, engine.host::nanos, NAMES, LockMode.EXCLUSIVE)
                .acquireAsync(AcquireOptions.waitUpTo(Duration.ofSeconds(1)))
                .get(5, TimeUnit.SECONDS);
        assertThat(engine.calls)
                .containsExactly("async-all [m/a, m/b]", "async m/a", "async m/b", "async-all [m/a, m/b]");
        assertThat(engine.granted.get(0).releases).isEqualTo(1);
        assertThat(lease.leases()).hasSize(2);
    }

    @Test
    void aBusyOneStepWithoutWaitIsATimeoutHoldingNothing() {
        ScriptedEngine engine = new ScriptedEngine();
        engine.groupBusy = true;
        assertThatThrownBy(() -> Handles.multiLock(engine, engine.host::nanos, NAMES, LockMode.EXCLUSIVE)
                        .acquire(Duration.ZERO))
                .isInstanceOf(LockTimeoutException.class)
                .hasMessageContaining("m/a, m/b");
        assertThat(Handles.multiLock(engine, engine.host::nanos, NAMES, LockMode.EXCLUSIVE)
                        .tryAcquire())
                .isEmpty();
    }
}
