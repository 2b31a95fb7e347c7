package io.holdfast.model;

import java.util.Objects;

/**
 * One fencing token to check against its lock: whether {@code token} is a current grant of {@code
 * name} ({@link LockService#isCurrentHolderMany}).
 *
 * @param name the lock or semaphore
 * @param token the fencing token of a grant of it
 */
public record FenceCheck(String name, long token) {
    public FenceCheck {
        Objects.requireNonNull(name, "name");
    }
}
