package io.holdfast.lease;

import io.holdfast.LockMode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The smallest engine: renewals answer what the test queued (acknowledged when nothing is queued),
 * and each renewal's send time on the host clock is recorded.
 */
final class TestLease extends ManagedLease {
    private final ManualHost host;
    final List<Long> renewalsSentAt = new ArrayList<>();
    final Deque<CompletableFuture<RenewOutcome>> answers = new ArrayDeque<>();
    int releases;

    TestLease(ManualHost host, long countFromNanos) {
        super(host, new LeaseRequest("orders/42", LockMode.EXCLUSIVE, 1, 1), 7, countFromNanos);
        this.host = host;
    }

    @Override
    protected CompletableFuture<RenewOutcome> renewInBackend() {
        renewalsSentAt.add(host.nanos());
        CompletableFuture<RenewOutcome> answer = answers.poll();
        return answer != null ? answer : CompletableFuture.completedFuture(RenewOutcome.renewed());
    }

    @Override
    protected void releaseInBackend() {
        releases++;
    }
}
