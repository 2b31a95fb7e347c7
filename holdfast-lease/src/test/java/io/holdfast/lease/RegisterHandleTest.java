package io.holdfast.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.Capability;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The register handle's checks, the same for every engine ({@link Handles#register}), run over a
 * recording registrar. Before the handle was shared, the client's and the stores' register
 * handles differed: the client checked {@link Capability#REGISTERS} only at the first call, and
 * its asynchronous write threw bad arguments at the caller instead of failing the future.
 */
class RegisterHandleTest {
    /** A registrar that writes everything and records what it was asked. */
    private static final class RecordingRegistrar implements Registrar {
        final List<String> calls = new ArrayList<>();
        final List<Lease> own = new ArrayList<>();
        byte[] lastValue;

        @Override
        public boolean isOwn(Lease lease) {
            return own.contains(lease);
        }

        @Override
        public Optional<Versioned> read(String key) {
            calls.add("read " + key);
            return Optional.empty();
        }

        @Override
        public CompletableFuture<Optional<Versioned>> readAsync(String key) {
            calls.add("readAsync " + key);
            return CompletableFuture.completedFuture(Optional.empty());
        }

        @Override
        public Versioned write(String key, long expectedVersion, byte[] value, Lease fence) {
            calls.add("write " + key + " " + expectedVersion + (fence == null ? "" : " fenced"));
            lastValue = value;
            return new Versioned(key, expectedVersion + 1, value);
        }

        @Override
        public CompletableFuture<Versioned> writeAsync(String key, long expectedVersion, byte[] value) {
            calls.add("writeAsync " + key + " " + expectedVersion);
            lastValue = value;
            return CompletableFuture.completedFuture(new Versioned(key, expectedVersion + 1, value));
        }
    }

    private static final Set<Capability> BOTH = EnumSet.of(Capability.REGISTERS, Capability.FENCED_REGISTERS);

    private static VersionedRegister register(Set<Capability> capabilities, RecordingRegistrar registrar, String key) {
        return Handles.register(new HandlesTest.RecordingAcquirer(capabilities), registrar, key);
    }

    @Test
    void withoutRegistersTheHandleIsRefusedWhenItIsCreated() {
        RecordingRegistrar engine = new RecordingRegistrar();
        assertThatThrownBy(() -> register(EnumSet.noneOf(Capability.class), engine, "k"))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessage("the test provider does not support versioned registers");
        assertThatThrownBy(() -> register(BOTH, engine, "a/../b")).isInstanceOf(InvalidArgumentException.class);
        assertThat(engine.calls).isEmpty();
    }

    @Test
    void argumentsAreCheckedBeforeTheEngineIsAskedAndAsynchronousOnesFailTheirFuture() {
        RecordingRegistrar engine = new RecordingRegistrar();
        VersionedRegister register = register(BOTH, engine, "k");

        assertThatThrownBy(() -> register.compareAndSet(-1, new byte[1])).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> register.compareAndSet(0, null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> register.compareAndSet(0, new byte[VersionedRegister.MAX_VALUE_BYTES + 1]))
                .isInstanceOf(InvalidArgumentException.class);
        CompletableFuture<Versioned> async = register.compareAndSetAsync(-1, new byte[1]);
        assertThat(async).isCompletedExceptionally();
        assertThatThrownBy(async::join).hasCauseInstanceOf(InvalidArgumentException.class);
        assertThat(engine.calls).isEmpty();
    }

    @Test
    void aFenceMustBeALeaseOfTheWritingEngineAndTheEngineMustFenceWrites() {
        RecordingRegistrar engine = new RecordingRegistrar();
        VersionedRegister register = register(BOTH, engine, "k");
        Lease mine = new TestLease(new ManualHost(), 0);
        Lease foreign = new TestLease(new ManualHost(), 0);
        engine.own.add(mine);

        assertThatThrownBy(() -> register.compareAndSet(0, new byte[1], foreign))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("a lease of this client");
        assertThatThrownBy(() -> register.compareAndSet(0, new byte[1], null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("a fenced write needs a lease");
        assertThat(engine.calls).isEmpty();
        assertThat(register.compareAndSet(0, new byte[1], mine).version()).isEqualTo(1);
        assertThat(engine.calls).containsExactly("write k 0 fenced");

        VersionedRegister unfenced = register(EnumSet.of(Capability.REGISTERS), engine, "k");
        assertThatThrownBy(() -> unfenced.compareAndSet(0, new byte[1], mine))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessage("the test provider does not support register writes fenced by a lease");
    }

    @Test
    void theEngineGetsACopyOfTheValue() {
        RecordingRegistrar engine = new RecordingRegistrar();
        VersionedRegister register = register(BOTH, engine, "k");
        byte[] value = {1, 2, 3};

        register.compareAndSet(0, value);
        value[0] = 9;
        assertThat(engine.lastValue).containsExactly(1, 2, 3);
        register.compareAndSetAsync(1, value).join();
        value[0] = 7;
        assertThat(engine.lastValue).containsExactly(9, 2, 3);
        assertThat(register.get()).isEmpty();
        assertThat(register.getAsync().join()).isEmpty();
        assertThat(engine.calls).containsExactly("write k 0", "writeAsync k 1", "read k", "readAsync k");
        assertThat(register.key()).isEqualTo("k");
    }
}
