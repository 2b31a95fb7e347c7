package io.holdfast;

import java.time.Duration;

/**
 * One waiter of a lock or semaphore, in queue order.
 *
 * @param sessionId the waiter's session
 * @param clientName the name the client gave itself
 * @param mode what it waits for
 * @param permits permits requested (1 for locks)
 * @param waitingFor how long it has waited
 * @param timeLeft time left before its deadline
 */
public record WaiterInfo(
        String sessionId, String clientName, LockMode mode, int permits, Duration waitingFor, Duration timeLeft) {}
