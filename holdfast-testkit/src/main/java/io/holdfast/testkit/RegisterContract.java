package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.Capability;
import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link Capability#REGISTERS} and {@link Capability#FENCED_REGISTERS}: optimistic writes. */
abstract class RegisterContract extends ContractSupport {
    RegisterContract(LockProviderContract suite) {
        super(suite);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aNewRegisterIsEmptyAndItsFirstWriteIsVersionOne() {
        assumeCapability(Capability.REGISTERS);
        String key = name("reg");
        VersionedRegister reg = open().register(key);
        assertThat(reg.key()).isEqualTo(key);
        assertThat(reg.get()).as("a register never written").isEmpty();

        Versioned v1 = reg.compareAndSet(0, bytes("one"));
        assertThat(v1.key()).isEqualTo(key);
        assertThat(v1.version()).isEqualTo(1);
        assertThat(v1.value()).isEqualTo(bytes("one"));
        assertThat(open().register(key).get())
                .as("the register read by another client")
                .contains(v1);

        Versioned v2 = reg.compareAndSet(1, bytes("two"));
        assertThat(v2.version()).isEqualTo(2);
        assertThat(reg.get()).contains(v2);
    }

    @Test
    void aStaleWriteConflictsAndChangesNothing() {
        assumeCapability(Capability.REGISTERS);
        String key = name("reg");
        Versioned v1 = open().register(key).compareAndSet(0, bytes("first"));
        VersionedRegister late = open().register(key);
        assertThatThrownBy(() -> late.compareAndSet(0, bytes("late")))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion())
                                .as("currentVersion of the conflict")
                                .isEqualTo(1));
        assertThatThrownBy(() -> late.compareAndSet(7, bytes("future")))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion())
                                .as("currentVersion of the conflict")
                                .isEqualTo(1));
        assertThat(late.get()).as("the register after two refused writes").contains(v1);
    }

    @Test
    void concurrentCompareAndSetIncrementsLoseNothing() {
        assumeCapability(Capability.REGISTERS);
        String key = name("counter");
        int threads = 4;
        int increments = 25;
        LockClient[] clients = {open(), open()};
        CountDownLatch start = new CountDownLatch(1);
        List<Background<Integer>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            VersionedRegister reg = clients[t % clients.length].register(key);
            workers.add(inBackground("incrementer-" + t, () -> {
                assertThat(start.await(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS))
                        .isTrue();
                int conflicts = 0;
                for (int i = 0; i < increments; i++) {
                    while (true) {
                        Optional<Versioned> current = reg.get();
                        long version = current.map(Versioned::version).orElse(0L);
                        long value = current.map(v -> ByteBuffer.wrap(v.value()).getLong())
                                .orElse(0L);
                        try {
                            reg.compareAndSet(
                                    version,
                                    ByteBuffer.allocate(8).putLong(value + 1).array());
                            break;
                        } catch (ConflictException e) {
                            conflicts++;
                        }
                    }
                }
                return conflicts;
            }));
        }
        start.countDown();
        for (Background<Integer> w : workers) {
            w.join(Duration.ofSeconds(45));
        }
        Versioned last = open().register(key).get().orElseThrow();
        assertThat(ByteBuffer.wrap(last.value()).getLong())
                .as("the counter after %d threads x %d increments", threads, increments)
                .isEqualTo(threads * increments);
        assertThat(last.version()).as("the version: one per write").isEqualTo(threads * increments);
    }

    @Test
    void theAsyncCallsBehaveLikeTheBlockingOnes() {
        assumeCapability(Capability.REGISTERS);
        VersionedRegister reg = open().register(name("reg"));
        assertThat(Futures.get(reg.getAsync(), PROMPTLY)).isEmpty();
        Versioned v1 = Futures.get(reg.compareAndSetAsync(0, bytes("one")), PROMPTLY);
        assertThat(v1.version()).isEqualTo(1);
        assertThat(Futures.failure(reg.compareAndSetAsync(0, bytes("again")), PROMPTLY))
                .isInstanceOf(ConflictException.class);
        assertThat(Futures.get(reg.getAsync(), PROMPTLY)).contains(v1);
    }

    @Test
    void oversizedValuesAndNegativeVersionsAreRefused() {
        assumeCapability(Capability.REGISTERS);
        VersionedRegister reg = open().register(name("reg"));
        assertThatThrownBy(() -> reg.compareAndSet(0, new byte[VersionedRegister.MAX_VALUE_BYTES + 1]))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> reg.compareAndSet(-1, bytes("x"))).isInstanceOf(InvalidArgumentException.class);
        assertThat(reg.get()).as("the register after refused writes").isEmpty();
        Versioned full = reg.compareAndSet(0, new byte[VersionedRegister.MAX_VALUE_BYTES]);
        assertThat(full.version()).isEqualTo(1);
        assertThat(reg.get().orElseThrow().value()).hasSize(VersionedRegister.MAX_VALUE_BYTES);
    }

    @Test
    void badWritesAreRefusedAlikeByTheBlockingAndTheAsyncCalls() {
        assumeCapability(Capability.REGISTERS);
        VersionedRegister reg = open().register(name("reg"));
        byte[] tooLarge = new byte[VersionedRegister.MAX_VALUE_BYTES + 1];
        assertThatThrownBy(() -> reg.compareAndSet(0, null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("must not be null");
        assertThat(failureOf(() -> reg.compareAndSetAsync(0, null)))
                .as("a null value, thrown or in the future")
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("must not be null");
        assertThat(failureOf(() -> reg.compareAndSetAsync(0, tooLarge)))
                .as("an oversized value, thrown or in the future")
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("limit is " + VersionedRegister.MAX_VALUE_BYTES);
        assertThat(failureOf(() -> reg.compareAndSetAsync(-1, bytes("x"))))
                .as("a negative version, thrown or in the future")
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("negative");
        assertThat(reg.get()).as("the register after refused writes").isEmpty();
    }

    @Test
    void aFencedWriteNeedsALeaseOfTheWritingClient() {
        assumeCapability(Capability.REGISTERS, Capability.FENCED_REGISTERS);
        String fence = name("fence");
        LockClient holder = open();
        LockClient other = open();
        Lease held = take(holder.lock(fence));
        VersionedRegister reg = other.register(name("reg"));
        assertThatThrownBy(() -> reg.compareAndSet(0, bytes("borrowed"), held))
                .as("a write fenced by another client's lease: the writer does not hold the lock")
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("a lease of this client");
        assertThatThrownBy(() -> reg.compareAndSet(0, bytes("unfenced"), null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("needs a lease");
        assertThat(reg.get()).as("the register after refused writes").isEmpty();
        held.release();
    }

    @Test
    void aFencedWriteSucceedsOnlyWhileItsLeaseIsHeld() {
        assumeCapability(Capability.REGISTERS, Capability.FENCED_REGISTERS);
        String fence = name("fence");
        LockClient client = open();
        VersionedRegister reg = client.register(name("reg"));
        Lease lease = take(client.lock(fence));
        Versioned v1 = reg.compareAndSet(0, bytes("fenced"), lease);
        assertThat(v1.version()).isEqualTo(1);

        lease.release();
        assertThatThrownBy(() -> reg.compareAndSet(1, bytes("stale"), lease))
                .as("a write fenced by a released lease")
                .isInstanceOf(ConflictException.class);
        assertThat(reg.get()).contains(v1);

        LockClient next = open();
        Lease newer = take(next.lock(fence));
        assertThat(next.register(name("reg"))
                        .compareAndSet(1, bytes("newer"), newer)
                        .version())
                .isEqualTo(2);
    }

    @Test
    void aRegisterAndALockOfOneNameDoNotMeet() {
        assumeCapability(Capability.REGISTERS);
        String key = name("shared");
        LockClient client = open();
        Lease lease = take(client.lock(key));
        Versioned v1 = client.register(key).compareAndSet(0, bytes("beside the lock"));
        assertThat(v1.version()).isEqualTo(1);
        assertThat(isFree(open().lock(key)))
                .as("the lock after a write to the register of its name")
                .isFalse();
        lease.release();
        assertThat(open().register(key).get())
                .as("the register after the lock was released")
                .contains(v1);
        assertThat(isFree(open().lock(key))).as("the lock after its release").isTrue();
    }

    @Test
    void aFencedWriteOfARevokedLeaseConflicts() {
        assumeCapability(Capability.REGISTERS, Capability.FENCED_REGISTERS, Capability.REVOKE);
        String fence = name("fence");
        LockClient client = open();
        VersionedRegister reg = client.register(name("reg"));
        Lease lease = take(client.lock(fence));
        assertThat(observer().admin().revoke(fence)).as("leases revoked").isEqualTo(1);
        assertThatThrownBy(() -> reg.compareAndSet(0, bytes("revoked"), lease))
                .as("a write fenced by a revoked lease")
                .isInstanceOf(ConflictException.class);
        assertThat(reg.get()).as("the register after the refused write").isEmpty();
    }
}
