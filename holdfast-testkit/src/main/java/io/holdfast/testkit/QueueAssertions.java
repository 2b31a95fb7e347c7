package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.WaiterInfo;

/**
 * Assertions on an operator's view of one lock ({@link io.holdfast.Admin#describe}), for tests
 * that check a queue is neither lost nor doubled across a fault of the store.
 */
public final class QueueAssertions {
    private QueueAssertions() {}

    /**
     * Fails unless the lock has exactly one holder, the session {@code holderSession} with the
     * grant of {@code token}, and exactly the waiters {@code waiterSessions}, in queue order.
     *
     * @param when the moment, for the failure's message ("with server 2 down")
     */
    public static void assertHeldAndQueued(
            LockInfo info, String when, String holderSession, long token, String... waiterSessions) {
        assertThat(info.holders())
                .as("the holders of %s %s", info.name(), when)
                .singleElement()
                .returns(holderSession, HolderInfo::sessionId)
                .returns(token, HolderInfo::fencingToken);
        assertThat(info.waiters())
                .as("the waiters of %s %s", info.name(), when)
                .extracting(WaiterInfo::sessionId)
                .containsExactly(waiterSessions);
    }
}
