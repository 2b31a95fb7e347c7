package io.holdfast.client.internal;

import io.grpc.Status;
import io.holdfast.Ticker;
import io.holdfast.internal.CallBatches;
import io.holdfast.model.FenceCheck;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.IsCurrentHolderManyRequest;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The fencing-token checks of one transport ({@code IsCurrentHolder}), sent together: at most
 * {@value #MAX_IN_FLIGHT} calls are in flight, and the checks asked for meanwhile wait and go in the
 * next call, up to {@value #MAX_PER_CALL} in one {@code IsCurrentHolderMany}.
 *
 * <p><b>Why.</b> After a gap in its events (a move to another member), each session checks every
 * lease it holds. 10,000 sessions holding 100 locks each, on one client, sent up to 1,000,000
 * calls at once, each a read index asked of the leader by a member that does not lead, and every
 * session of the client expired (docs/benchmarks.md, 2026-12-06); batched, none did. The same gap
 * costs a thousand calls, a few at a time.
 *
 * <p><b>Guarantees.</b>
 *
 * <ul>
 *   <li>Each check is answered as a single {@code IsCurrentHolder} would be, or fails with its
 *       call's failure (a call fails as a whole: nothing is known of its checks).
 *   <li>A check asked for while fewer than {@value #MAX_IN_FLIGHT} calls are in flight is sent at
 *       once: a lone check (an application's {@code Lease.check}) waits for nothing.
 *   <li>A member that does not know the call (an older server: {@code UNIMPLEMENTED}) is sent the
 *       checks one call each, still at most {@value #MAX_IN_FLIGHT} at a time, for the next {@value
 *       #SINGLES_FOR_SECONDS} s; then the call is tried again (a rolling upgrade may have reached
 *       it).
 * </ul>
 *
 * <p><b>Does not</b> decide where a call goes, its deadline or its retries: the sender does (the
 * transport's redirects and call timeout). Thread-safe.
 *
 * <p><b>Failure story.</b> The member dies while 50,000 checks wait: the calls in flight fail, their
 * checks fail (the leases stay as they were: a check that fails proves nothing), and the waiting
 * checks go in the next calls, which the transport sends to the member it moved to.
 */
final class FenceChecks {
    /** The most calls in flight at once. */
    static final int MAX_IN_FLIGHT = 4;
    /** The most checks in one call (the server takes up to 10,000). */
    static final int MAX_PER_CALL = 1_000;
    /** How long checks go one call each after a member did not know the call. */
    static final long SINGLES_FOR_SECONDS = 60;

    /** How checks are sent: together, or one alone. */
    interface Sender {
        /** One answer per check, in order; fails as a whole when the member could not read them. */
        CompletableFuture<List<Boolean>> many(List<FenceCheck> checks);

        CompletableFuture<Boolean> one(FenceCheck check);
    }

    private final CallBatches<FenceCheck, Boolean> batches;

    /**
     * Checks sent to the members as reads ({@link RedirectingCall}): to the home (or the believed
     * leader), following redirects, with a leader search during an election, within the call
     * timeout.
     */
    static FenceChecks overMembers(Members members, ScheduledExecutorService scheduler, Duration callTimeout) {
        return new FenceChecks(
                new Sender() {
                    @Override
                    public CompletableFuture<List<Boolean>> many(List<FenceCheck> checks) {
                        IsCurrentHolderManyRequest.Builder b = IsCurrentHolderManyRequest.newBuilder();
                        checks.forEach(c -> b.addChecks(request(c)));
                        return RedirectingCall.send(
                                members,
                                scheduler,
                                HoldfastGrpc.getIsCurrentHolderManyMethod(),
                                b.build(),
                                false,
                                r -> r.getCurrentList(),
                                callTimeout,
                                RedirectingCall.LEADER_SEARCH);
                    }

                    @Override
                    public CompletableFuture<Boolean> one(FenceCheck check) {
                        return RedirectingCall.send(
                                members,
                                scheduler,
                                HoldfastGrpc.getIsCurrentHolderMethod(),
                                request(check),
                                false,
                                r -> r.getCurrent(),
                                callTimeout,
                                RedirectingCall.LEADER_SEARCH);
                    }
                },
                scheduler,
                Ticker.system());
    }

    private static IsCurrentHolderRequest request(FenceCheck c) {
        return IsCurrentHolderRequest.newBuilder()
                .setName(c.name())
                .setToken(c.token())
                .build();
    }

    /**
     * @param executor where a call that ends sends the next (not the thread that completed it)
     * @param ticker the clock of the singles' window
     */
    FenceChecks(Sender sender, Executor executor, Ticker ticker) {
        this.batches = new CallBatches<>(
                new CallBatches.Sender<>() {
                    @Override
                    public CompletableFuture<List<Boolean>> many(List<FenceCheck> checks) {
                        return sender.many(checks);
                    }

                    @Override
                    public CompletableFuture<Boolean> one(FenceCheck check) {
                        return sender.one(check);
                    }
                },
                new CallBatches.Limits(
                        MAX_IN_FLIGHT, MAX_PER_CALL, Long.MAX_VALUE, CallBatches.seconds(SINGLES_FOR_SECONDS)),
                c -> 0,
                FenceChecks::unknownCall,
                executor,
                ticker);
    }

    /** Whether {@code token} is a current grant of {@code name}, asked with the others waiting. */
    CompletableFuture<Boolean> check(String name, long token) {
        return batches.ask(new FenceCheck(name, token));
    }

    /** Every check, with the others waiting: one answer each, in order; fails if any failed. */
    CompletableFuture<List<Boolean>> checkAll(List<FenceCheck> checks) {
        return batches.askAll(checks);
    }

    /** Whether a member answered that it does not know the call. */
    private static boolean unknownCall(Throwable error) {
        return Status.fromThrowable(GrpcErrors.unwrap(error)).getCode() == Status.Code.UNIMPLEMENTED;
    }
}
