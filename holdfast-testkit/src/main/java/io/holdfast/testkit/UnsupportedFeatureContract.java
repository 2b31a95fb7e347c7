package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A feature the provider does not declare is refused with {@link UnsupportedFeatureException},
 * never silently ignored. One case per capability that has an API of its own; a declared capability
 * is skipped here because its own tests cover it.
 */
abstract class UnsupportedFeatureContract extends ContractSupport {
    UnsupportedFeatureContract(LockProviderContract suite) {
        super(suite);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Capability.class,
            names = {
                "READ_WRITE",
                "SEMAPHORE",
                "MULTI_LOCK",
                "REGISTERS",
                "FENCED_REGISTERS",
                "REVOKE",
                "INSPECT",
                "CHECK_FENCE",
                "LEASE_TIMEOUT",
                "LOCK_DELAY"
            })
    void anUndeclaredFeatureThrowsUnsupportedFeatureException(Capability capability) {
        Assumptions.assumeFalse(
                has(capability), () -> "the provider declares " + capability + "; its own tests cover it");
        if (capability == Capability.FENCED_REGISTERS) {
            assumeCapability(Capability.REGISTERS);
        }
        String n = name("x");
        LockClient client = open();
        byte[] value = "v".getBytes(StandardCharsets.UTF_8);
        ThrowingCallable call = switch (capability) {
            case READ_WRITE -> () -> client.readWriteLock(n).readLock().tryAcquire();
            case SEMAPHORE -> () -> client.semaphore(n, 2).tryAcquire(1);
            case MULTI_LOCK -> () -> client.multiLock(java.util.List.of(n)).tryAcquire();
            case REGISTERS -> () -> client.register(n).compareAndSet(0, value);
            case FENCED_REGISTERS -> () -> client.register(n).compareAndSet(0, value, take(client.lock(name("fence"))));
            case REVOKE -> () -> client.admin().revoke(n);
            case INSPECT -> () -> client.admin().describe(n);
            case CHECK_FENCE -> () -> client.admin().isCurrentHolder(n, 1);
            case LEASE_TIMEOUT ->
                () -> client.lock(n).acquire(AcquireOptions.tryOnce().withLeaseTimeout(Duration.ofSeconds(1)));
            case LOCK_DELAY ->
                () -> open(options().lockDelay(Duration.ofSeconds(1)).build())
                        .lock(n)
                        .tryAcquire();
            default -> throw new AssertionError("no case for " + capability);
        };
        assertThatThrownBy(call)
                .as("using %s, which the provider does not declare", capability)
                .isInstanceOf(UnsupportedFeatureException.class);
    }
}
