package io.holdfast.client.internal;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.holdfast.InvalidArgumentException;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.client.internal.Members.Member;
import io.holdfast.internal.Backoffs;
import io.holdfast.internal.Causes;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.TraceHeaders;
import io.opentelemetry.context.Context;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One unary call of a {@link ClusterTransport} and its redirects, from the believed leader (or the
 * home, {@link Members}) on; each attempt starts when the previous one has failed.
 *
 * <p><b>With a home</b> (ADR 0003) the call starts there. A redirect to a named leader takes this
 * call alone there (the calls the leader alone serves: sessions, members, backups), except for a
 * write or a heartbeat: a member that names the leader for those runs a build that does not serve
 * sessions at every member, and the transport follows the leader from then on. A home whose
 * connection fails, or whose call runs out its deadline, is left for the next member; a heartbeat
 * that the home answers {@code UNAVAILABLE} and another member acknowledges moves the home there.
 *
 * <p><b>Guarantees.</b> A member that answers {@code UNAVAILABLE} naming the leader (the {@code
 * holdfast-leader} trailer) is left for that leader at once, at most twice the number of members
 * per call; a member that answers {@code UNAVAILABLE} without a name, or cannot be reached, is left
 * for the next member not yet tried in this call. When every member has been tried and at least
 * one of them answered that it does not lead, a leader is being elected (or has just been, and the
 * members still name the old one): the call goes round the members again after a short pause
 * ({@link Backoffs#leaderSearch()}: at most 100 ms), for up to {@link #LEADER_SEARCH} from its
 * first such round (a call made without a search fails there instead), so that it reaches the new leader within about 100 ms of its election instead
 * of waiting for the retry policy's growing pauses. The whole call, redirects and rounds included,
 * has one deadline. An answer from a member proves that it leads only for calls made with {@code
 * provesLeader} (those the leader alone serves, such as {@code Submit} and {@code KeepAlive}:
 * reads may be answered by followers). Cancelling the future {@link #send} returns cancels the
 * attempt on its way (its member sees the call cancelled) and starts no other.
 *
 * <p><b>Does not guarantee</b> an answer, nor retries: when every member has been tried (and the
 * leader search, if any, has run out), the call fails with one {@link UnavailableException} naming
 * each member and why it could not serve ("127.0.0.1:4653: connection refused; 127.0.0.1:4654:
 * UNAVAILABLE no leader"), and the next call starts at the next member; when the deadline passes,
 * it fails with {@link UnavailableException} too (naming what the members that answered said, if
 * any did). The runtime's retry policy decides when to try again (re-sending the same invocation,
 * which is safe). Any other status becomes the typed exception it stands for ({@link GrpcErrors}).
 */
final class RedirectingCall<Q, A> {
    /** How long one call keeps going round the members while they answer that they do not lead. */
    static final Duration LEADER_SEARCH = Duration.ofSeconds(3);

    private static final RetryPolicy SEARCH_PAUSES = Backoffs.leaderSearch();
    private final Members members;
    private final ScheduledExecutorService scheduler;
    private final MethodDescriptor<Q, A> method;
    private final Q request;
    private final boolean provesLeader;
    /** Whether every member of a current build serves this call (writes, heartbeats; ADR 0003). */
    private final boolean servedEverywhere;
    /** Whether this call is a heartbeat: one that another member acknowledged moves the home there. */
    private final boolean heartbeat;

    private final CompletableFuture<A> result = new CompletableFuture<>();
    private final Duration timeout;
    private final Duration leaderSearch;
    private final Deadline deadline;
    private final Set<Member> tried = new HashSet<>();
    /** Why each member tried could not serve the call ("connection refused"), in order. */
    private final Map<Member, String> reasons = new LinkedHashMap<>();

    private final int maxRedirects;
    private int redirects;
    /** Whether a member answered, in this round, that it does not lead. */
    private boolean notLeaderAnswered;
    /** Rounds of the leader search so far. */
    private int searchRounds;
    /**
     * When the first round of the leader search ended, on the JVM's clock ({@link System#nanoTime}),
     * not the client's ticker: the search is bounded by the call's gRPC {@link Deadline}, which runs
     * on that clock, and both must move together.
     */
    private long searchStartNanos;
    /** The trace the call carries to every member it tries ({@link TraceHeaders}), or null. */
    private final Context trace = TraceHeaders.current();
    /** The attempt on its way, cancelled with the call ({@link #cancel}); null before the first. */
    private volatile ClientCall<Q, A> current;
    /** Whether the caller cancelled the call: no attempt starts after that. */
    private volatile boolean cancelled;

    private RedirectingCall(
            Members members,
            ScheduledExecutorService scheduler,
            MethodDescriptor<Q, A> method,
            Q request,
            boolean provesLeader,
            Duration timeout,
            Duration leaderSearch) {
        this.members = members;
        this.scheduler = scheduler;
        this.leaderSearch = leaderSearch;
        this.method = method;
        this.request = request;
        this.provesLeader = provesLeader;
        this.heartbeat = method.getFullMethodName()
                        .equals(io.holdfast.protocol.v1.HoldfastGrpc.getKeepAliveMethod()
                                .getFullMethodName())
                || method.getFullMethodName()
                        .equals(io.holdfast.protocol.v1.HoldfastGrpc.getKeepAliveManyMethod()
                                .getFullMethodName());
        this.servedEverywhere = heartbeat
                || method.getFullMethodName()
                        .equals(io.holdfast.protocol.v1.HoldfastGrpc.getSubmitMethod()
                                .getFullMethodName());
        this.timeout = timeout;
        this.deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        this.maxRedirects = 2 * members.size();
    }

    /**
     * Sends a call to the believed leader, following redirects, and decodes its answer.
     *
     * @param scheduler where the rounds of a leader search are scheduled
     * @param provesLeader whether an answer proves that the member answering leads
     * @param decode reads the answer; an {@link InvalidArgumentException} it throws fails the call
     *     with {@link UnavailableException} ("cannot read the server's answer")
     * @param timeout the deadline of every attempt together, redirects included
     * @param leaderSearch how long the call goes round the members while they answer that they do
     *     not lead ({@link #LEADER_SEARCH}, or zero for none)
     */
    static <Q, A, T> CompletableFuture<T> send(
            Members members,
            ScheduledExecutorService scheduler,
            MethodDescriptor<Q, A> method,
            Q request,
            boolean provesLeader,
            Function<A, T> decode,
            Duration timeout,
            Duration leaderSearch) {
        if (members.isClosed()) {
            return CompletableFuture.failedFuture(new UnavailableException("the client is closed"));
        }
        RedirectingCall<Q, A> call =
                new RedirectingCall<>(members, scheduler, method, request, provesLeader, timeout, leaderSearch);
        call.sendTo(members.leader());
        CompletableFuture<T> decoded = call.result.thenApply(answer -> {
            try {
                return decode.apply(answer);
            } catch (InvalidArgumentException e) {
                throw new UnavailableException("cannot read the server's answer: " + e.getMessage(), e);
            }
        });
        decoded.whenComplete((answer, error) -> {
            if (decoded.isCancelled()) {
                call.cancel();
            }
        });
        return decoded;
    }

    /**
     * Ends the call at the caller's request: the attempt on its way is cancelled (its member is told
     * at once, and the channel is left with no call of it: a closed watch's long poll does not hold
     * the client's close for its grace period) and no further attempt starts. What the member did
     * with a request it had already received is unknown, as after a deadline.
     */
    private void cancel() {
        cancelled = true;
        result.cancel(false);
        ClientCall<Q, A> call = current;
        if (call != null) {
            call.cancel("cancelled by the caller", null);
        }
    }

    /**
     * Why a member could not serve a call, from the deepest cause that says something: "connection
     * refused" (nothing listens at its address), "unknown host …", "no route to host", or else the
     * cause's own message, or the status the member answered with ("UNAVAILABLE no leader").
     */
    static String reason(Status status, Throwable failure) {
        Throwable deepest =
                Causes.deepest(failure, c -> c instanceof StatusRuntimeException || c instanceof StatusException);
        if (deepest == null) {
            return status.getCode() + (status.getDescription() == null ? "" : " " + status.getDescription());
        }
        String message = deepest.getMessage().strip();
        if (message.toLowerCase(Locale.ROOT).contains("connection refused")) {
            return "connection refused";
        } else if (deepest instanceof UnknownHostException) {
            return "unknown host " + message;
        } else if (deepest instanceof NoRouteToHostException) {
            return "no route to host";
        }
        return message;
    }

    private void sendTo(Member m) {
        if (cancelled) {
            return;
        }
        if (members.isClosed()) {
            result.completeExceptionally(new UnavailableException("the client is closed"));
            return;
        }
        ClientCall<Q, A> call =
                TraceHeaders.carry(m.channel, trace).newCall(method, CallOptions.DEFAULT.withDeadline(deadline));
        current = call;
        ClientCalls.asyncUnaryCall(call, request, new StreamObserver<A>() {
            private A answer;

            @Override
            public void onNext(A value) {
                answer = value;
            }

            @Override
            public void onError(Throwable t) {
                failed(m, t);
            }

            @Override
            public void onCompleted() {
                if (provesLeader) {
                    members.noteLeader(m);
                }
                if (heartbeat && m != members.leader()) {
                    members.moveHomeTo(m); // the home failed this heartbeat; m acknowledged it
                }
                result.complete(answer);
            }
        });
        if (cancelled) {
            call.cancel("cancelled by the caller", null); // cancel() ran before `current` was this call
        }
    }

    /** Whether a member answered the failure (a Holdfast error code), rather than the connection failing. */
    private static boolean answered(Throwable failure) {
        io.grpc.Metadata trailers = Status.trailersFromThrowable(failure);
        return trailers != null && trailers.containsKey(GrpcErrors.ERROR_CODE);
    }

    /** Fails the call naming each member tried and why it could not serve. */
    private void failNoMember(Throwable t) {
        StringBuilder why = new StringBuilder();
        reasons.forEach((member, reason) -> why.append(why.length() == 0 ? "" : "; ")
                .append(member)
                .append(": ")
                .append(reason));
        result.completeExceptionally(new UnavailableException(
                "no member of " + members.addresses() + " could serve the call (" + why + ")", t));
    }

    /**
     * Starts the next round of a leader search after its pause, if a member answered in this round
     * that it does not lead and the search and the deadline leave time for it.
     */
    private boolean searchAgain() {
        if (!notLeaderAnswered) {
            return false;
        }
        long now = System.nanoTime();
        if (searchRounds == 0) {
            searchStartNanos = now;
        }
        long pause = SEARCH_PAUSES
                .delayBefore(Math.min(searchRounds + 1, 16), ThreadLocalRandom.current()::nextDouble)
                .toNanos();
        if (now + pause - searchStartNanos > leaderSearch.toNanos()
                || deadline.timeRemaining(TimeUnit.NANOSECONDS) <= pause) {
            return false;
        }
        searchRounds++;
        notLeaderAnswered = false;
        redirects = 0;
        tried.clear();
        try {
            scheduler.schedule(() -> sendTo(members.leader()), pause, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            return false; // the transport is closed: fail now
        }
        return true;
    }

    private void failed(Member m, Throwable t) {
        Status status = Status.fromThrowable(t);
        if (members.isClosed()) {
            result.completeExceptionally(new UnavailableException("the client is closed", t));
        } else if (status.getCode() == Status.Code.UNAVAILABLE) {
            notLeaderAnswered |= GrpcErrors.isNotLeader(t);
            Member hinted = members.hintedLeader(t);
            if (hinted != null && hinted != m && redirects < maxRedirects) {
                redirects++;
                if (members.isHome() && servedEverywhere) {
                    members.followLeader(hinted); // a build whose members do not serve sessions
                } else {
                    members.noteLeader(hinted); // a home stays: this call alone goes to the leader
                }
                sendTo(hinted);
                return;
            }
            if (members.isHome() && m == members.leader() && !answered(t)) {
                members.moveOnFrom(m); // the home's connection failed: move (ADR 0003)
            }
            tried.add(m);
            reasons.put(m, reason(status, t));
            m.channel.resetConnectBackoff(); // we back off ourselves: the next try should connect
            Member next = members.nextUntried(m, tried);
            if (next != null) {
                sendTo(next);
                return;
            }
            members.moveOnFrom(m);
            if (!searchAgain()) {
                failNoMember(t);
            }
        } else if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            members.moveOnFrom(m);
            if (!reasons.isEmpty()) {
                failNoMember(t); // say what the members that answered said (a leader search's rounds)
            } else {
                result.completeExceptionally(new UnavailableException(m + " did not answer within " + timeout, t));
            }
        } else {
            result.completeExceptionally(GrpcErrors.toException(t, m.toString()));
        }
    }
}
