package io.holdfast;

import java.time.Duration;

/**
 * One holder of a lock or semaphore, as an operator sees it.
 *
 * @param sessionId the holder's session
 * @param clientName the name the client gave itself (host, process)
 * @param mode how it holds
 * @param permits permits held (1 for locks)
 * @param fencingToken the token of its grant
 * @param holdCount always 1: no backend has reentrant grants (reentrancy is the client's {@code
 *     asLock()} view); kept so that code and JSON that read it keep working
 * @param heldFor how long it has held, by the service's clock
 * @param leaseLeft time left before its lease timeout, or null without one
 */
public record HolderInfo(
        String sessionId,
        String clientName,
        LockMode mode,
        int permits,
        long fencingToken,
        int holdCount,
        Duration heldFor,
        Duration leaseLeft) {}
