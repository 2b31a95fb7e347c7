package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.Names;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input is refused with {@link InvalidArgumentException} and changes nothing. */
abstract class InvalidInputContract extends ContractSupport {
    InvalidInputContract(LockProviderContract suite) {
        super(suite);
    }

    static Stream<Arguments> badNames() {
        return Stream.of(
                arguments("null", null),
                arguments("empty", ""),
                arguments("600 bytes of UTF-8 in 300 characters", "é".repeat(300)),
                arguments("a newline", "orders\n42"),
                arguments("NUL", "orders\u000042"),
                arguments("DEL", "orders\u007f42"),
                arguments("a lone surrogate", "orders\ud80042"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.holdfast.testkit.InvalidInputContract#badNames")
    void badNamesAreRefused(String what, String bad) {
        LockClient client = open();
        assertThatThrownBy(() -> client.lock(bad).tryAcquire())
                .as("a lock named with %s", what)
                .isInstanceOf(InvalidArgumentException.class);
        if (has(Capability.READ_WRITE)) {
            assertThatThrownBy(() -> client.readWriteLock(bad).readLock().tryAcquire())
                    .as("a read-write lock named with %s", what)
                    .isInstanceOf(InvalidArgumentException.class);
        }
        if (has(Capability.SEMAPHORE)) {
            assertThatThrownBy(() -> client.semaphore(bad, 2).tryAcquire(1))
                    .as("a semaphore named with %s", what)
                    .isInstanceOf(InvalidArgumentException.class);
        }
        if (has(Capability.REGISTERS)) {
            assertThatThrownBy(() -> client.register(bad).get())
                    .as("a register keyed with %s", what)
                    .isInstanceOf(InvalidArgumentException.class);
        }
        assertThat(client.isOpen()).as("the client after refused requests").isTrue();
    }

    @Test
    void aNameOfExactlyTheLimitIsAcceptedAndOneByteMoreIsNot() {
        int room = Names.MAX_NAME_BYTES - prefix().getBytes(StandardCharsets.UTF_8).length;
        String longest = prefix() + "x".repeat(room);
        LockClient client = open();
        take(client.lock(longest)).release();
        assertThatThrownBy(() -> client.lock(longest + "x").tryAcquire()).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void aNegativeOrOverlongWaitIsRefusedAndChangesNothing() {
        String n = name("a");
        DistributedLock lock = open().lock(n);
        assertThatThrownBy(() -> lock.acquire(Duration.ofMillis(-1))).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> lock.acquire(AcquireOptions.MAX_DURATION.plusMillis(1)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(failureOf(() -> lock.acquireAsync(Duration.ofMillis(-1))))
                .as("acquireAsync with a negative wait, thrown or in the future")
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(isFree(observer().lock(n)))
                .as("the lock after refused requests")
                .isTrue();
    }

    @Test
    void semaphoreSizesOutsideTheLimitsAreRefused() {
        assumeCapability(Capability.SEMAPHORE);
        String n = name("sem");
        LockClient client = open();
        for (int size : new int[] {0, -1, 1_000_001}) {
            assertThatThrownBy(() -> client.semaphore(n, size).tryAcquire(1))
                    .as("a semaphore of %d permits", size)
                    .isInstanceOf(InvalidArgumentException.class);
        }
        assertThat(open().semaphore(n, 2).tryAcquire(2))
                .as("a semaphore of 2 under the same name, after the refused ones")
                .isPresent();
    }
}
