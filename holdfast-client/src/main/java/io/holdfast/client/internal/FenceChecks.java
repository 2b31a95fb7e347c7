package io.holdfast.client.internal;

import io.grpc.Status;
import io.holdfast.Ticker;
import io.holdfast.model.FenceCheck;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.IsCurrentHolderManyRequest;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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

    private record Pending(FenceCheck check, CompletableFuture<Boolean> answer) {}

    private final Sender sender;
    private final Executor executor;
    private final Ticker ticker;

    private final ArrayDeque<Pending> waiting = new ArrayDeque<>(); // guarded by this
    private int inFlight; // guarded by this
    /** Until when ({@link Ticker#nanos}) checks go one call each; meaningful while {@link #singles}. */
    private long singlesUntil; // guarded by this

    private boolean singles; // guarded by this

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
        this.sender = sender;
        this.executor = executor;
        this.ticker = ticker;
    }

    /** Whether {@code token} is a current grant of {@code name}, asked with the others waiting. */
    CompletableFuture<Boolean> check(String name, long token) {
        Pending p = new Pending(new FenceCheck(name, token), new CompletableFuture<>());
        List<Pending> now;
        synchronized (this) {
            waiting.add(p);
            now = next();
        }
        send(now);
        return p.answer();
    }

    /** Every check, with the others waiting: one answer each, in order; fails if any failed. */
    CompletableFuture<List<Boolean>> checkAll(List<FenceCheck> checks) {
        List<CompletableFuture<Boolean>> each = new ArrayList<>(checks.size());
        List<List<Pending>> calls = new ArrayList<>();
        synchronized (this) {
            for (FenceCheck c : checks) {
                Pending p = new Pending(c, new CompletableFuture<>());
                each.add(p.answer());
                waiting.add(p);
            }
            for (List<Pending> call = next(); call != null; call = next()) {
                calls.add(call);
            }
        }
        calls.forEach(this::send);
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Boolean> answers = new ArrayList<>(each.size());
            each.forEach(f -> answers.add(f.join()));
            return answers;
        });
    }

    /** The next call's checks, counted in flight, if a call may start and checks wait; else null. */
    private List<Pending> next() {
        if (waiting.isEmpty() || inFlight >= MAX_IN_FLIGHT) {
            return null;
        }
        if (singles && ticker.nanos() - singlesUntil >= 0) {
            singles = false;
        }
        int n = singles ? 1 : Math.min(MAX_PER_CALL, waiting.size());
        List<Pending> call = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            call.add(waiting.poll());
        }
        inFlight++;
        return call;
    }

    private void send(List<Pending> call) {
        if (call == null) {
            return;
        }
        CompletableFuture<List<Boolean>> sent;
        try {
            sent = call.size() == 1
                    ? sender.one(call.get(0).check()).thenApply(List::of)
                    : sender.many(call.stream().map(Pending::check).toList());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((answers, error) -> ended(call, answers, error));
    }

    /** A call ended: its checks are answered (or sent again one by one), and the next call starts. */
    private void ended(List<Pending> call, List<Boolean> answers, Throwable error) {
        boolean unknown = error != null && call.size() > 1 && unknownCall(error);
        synchronized (this) {
            inFlight--;
            if (unknown) {
                singles = true;
                singlesUntil = ticker.nanos() + TimeUnit.SECONDS.toNanos(SINGLES_FOR_SECONDS);
                for (int i = call.size() - 1; i >= 0; i--) {
                    waiting.addFirst(call.get(i)); // sent again, one call each, before the others
                }
            }
        }
        if (!unknown) {
            if (error == null && answers.size() == call.size()) {
                for (int i = 0; i < call.size(); i++) {
                    call.get(i).answer().complete(answers.get(i));
                }
            } else {
                Throwable why = error != null
                        ? GrpcErrors.unwrap(error)
                        : new io.holdfast.UnavailableException(
                                "the member answered " + answers.size() + " checks of " + call.size());
                call.forEach(p -> p.answer().completeExceptionally(why));
            }
        }
        try {
            executor.execute(this::drain);
        } catch (RejectedExecutionException closed) {
            List<Pending> left;
            synchronized (this) {
                left = new ArrayList<>(waiting);
                waiting.clear();
            }
            io.holdfast.UnavailableException why = new io.holdfast.UnavailableException("the client is closed");
            left.forEach(p -> p.answer().completeExceptionally(why));
        }
    }

    /** Starts the calls that may start now. */
    private void drain() {
        List<List<Pending>> calls = new ArrayList<>();
        synchronized (this) {
            for (List<Pending> call = next(); call != null; call = next()) {
                calls.add(call);
            }
        }
        calls.forEach(this::send);
    }

    /** Whether a member answered that it does not know the call. */
    private static boolean unknownCall(Throwable error) {
        return Status.fromThrowable(GrpcErrors.unwrap(error)).getCode() == Status.Code.UNIMPLEMENTED;
    }
}
