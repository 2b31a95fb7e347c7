package io.holdfast.endpoint;

import io.holdfast.InvalidArgumentException;
import io.holdfast.model.FenceCheck;
import io.holdfast.model.LockService;
import io.holdfast.protocol.v1.IsCurrentHolderManyRequest;
import io.holdfast.protocol.v1.IsCurrentHolderManyResponse;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The {@code IsCurrentHolderMany} call: several fencing tokens checked in one read of the backend
 * ({@link LockService#isCurrentHolderMany}).
 *
 * <p><b>Guarantees.</b> One answer per check, in the order asked, each what {@code IsCurrentHolder}
 * answers. More than {@value #MAX_CHECKS} checks is {@code INVALID_ARGUMENT}; a name the caller may
 * not read refuses the whole call with {@code PERMISSION_DENIED} naming it (an answer left out would
 * shift the others, and a "false" in its place would tell a holder it lost its lock). Either way
 * nothing is read.
 *
 * <p><b>Failure story.</b> A client whose member died checks its 1,000 leases at the member it moved
 * to: one call, one read index at the leader, one pass over the table; a failure of that read
 * fails the call, and the client's leases stay as they were until it checks again.
 */
final class ManyFenceChecks {
    /** The most checks one call may carry. */
    static final int MAX_CHECKS = 10_000;

    private ManyFenceChecks() {}

    static CompletableFuture<IsCurrentHolderManyResponse> answer(
            LockService backend, String identity, IsCurrentHolderManyRequest request) {
        if (request.getChecksCount() > MAX_CHECKS) {
            throw new InvalidArgumentException(
                    "at most " + MAX_CHECKS + " checks a call, not " + request.getChecksCount());
        }
        List<FenceCheck> checks = new ArrayList<>(request.getChecksCount());
        for (IsCurrentHolderRequest c : request.getChecksList()) {
            if (!backend.mayRead(identity, c.getName())) {
                throw HoldfastGrpcService.mayNotRead(identity, c.getName());
            }
            checks.add(new FenceCheck(c.getName(), c.getToken()));
        }
        CompletableFuture<List<Boolean>> current =
                checks.isEmpty() ? CompletableFuture.completedFuture(List.of()) : backend.isCurrentHolderMany(checks);
        return current.thenApply(answers -> {
            if (answers.size() != checks.size()) {
                throw new IllegalStateException(
                        "the lock service answered " + answers.size() + " checks of " + checks.size());
            }
            return IsCurrentHolderManyResponse.newBuilder()
                    .addAllCurrent(answers)
                    .build();
        });
    }
}
