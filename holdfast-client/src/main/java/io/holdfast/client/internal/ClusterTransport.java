package io.holdfast.client.internal;

import io.grpc.MethodDescriptor;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockInfo;
import io.holdfast.UnavailableException;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Command;
import io.holdfast.model.FenceCheck;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.protocol.v1.DescribeRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.ListRequest;
import io.holdfast.protocol.v1.ReadRegisterRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * The {@link LockService} of a remote Holdfast cluster: the calls of the {@code
 * holdfast.v1.Holdfast} service sent to a set of members, over frames ({@link #overFrames}: {@link
 * io.holdfast.protocol.frame.FrameChannel}, plaintext TCP, what plaintext {@code holdfast://}
 * clients use by default) or over gRPC (HTTP/2, plaintext or TLS, optionally with a bearer token).
 *
 * <p><b>Guarantees.</b> Every call goes to the client's home member (ADR 0003: picked at random,
 * left only when it fails the client, not when the leader changes; see {@link Members}), or, for a
 * transport made without a home, to the member believed to lead; it follows the cluster's
 * redirects ({@link RedirectingCall}); a whole call, redirects included, ends within its deadline
 * (the call timeout, unless a method says otherwise), so {@link #boundsCalls()} is true. While
 * the members answer that they do not lead (an election), a call but a heartbeat goes round them
 * again every 100 ms at most, for up to 3 s ({@link RedirectingCall}). A call fails with {@link
 * UnavailableException} when no member could serve it, naming each member and why
 * ("127.0.0.1:4653: connection refused"); it is not sent again after that here: the runtime's
 * retry policy decides when to try again (re-sending the same invocation, which is safe). Each subscribed
 * session has one event stream ({@link EventStream}), kept on the home (or the believed leader);
 * after a move the started ones re-open together, on one call ({@link SharedOpens}). After {@link
 * #close()} every call fails with {@link UnavailableException} ("the client is closed").
 *
 * <p><b>Does not guarantee</b> that an unanswered call did not take effect: a member may apply a
 * command and fail before it answers; the invocation id carried by every changing command makes
 * the retry safe.
 *
 * <p><b>For maintainers.</b> The transport is three parts: {@link MemberChannels} makes a member's
 * channel (Netty with TLS and a token, or frames), {@link Members} keeps one channel per member it
 * knows (the addresses it was given, plus leaders that members named) and the belief of which
 * member leads, and {@link RedirectingCall} is one unary call and its redirects. Only an answer
 * to a call that the leader alone serves ({@code Submit}, {@code KeepAlive}, and the sessions,
 * membership and backup calls) proves that the member leads (reads may be answered by followers);
 * the leader named in a trailer is believed at once. When the belief changes, event streams move
 * to the new leader.
 */
public final class ClusterTransport implements LockService {
    private final Duration callTimeout;
    private final Map<String, EventStream> streams = new ConcurrentHashMap<>();
    private final Members members;
    private final ScheduledExecutorService scheduler;
    private final HeartbeatBatches heartbeats; // the sessions' heartbeats, sent together
    private final HeartbeatsFirst heartbeatsFirst; // after a move, started streams wait for a heartbeat's answer
    private final SharedOpens sharedOpens; // after a move, the started streams re-open as shared calls
    private final FenceChecks fenceChecks; // the fencing-token checks, sent together

    /**
     * gRPC in plaintext.
     *
     * @param addresses the members to start from; at least one
     * @param callTimeout the deadline of each call, redirects included
     */
    public ClusterTransport(List<MemberAddress> addresses, Duration callTimeout) {
        this(addresses, callTimeout, (TlsFiles) null);
    }

    /**
     * gRPC, over TLS if {@code tls} is given.
     *
     * @param addresses the members to start from; at least one
     * @param callTimeout the deadline of each call, redirects included
     * @param tls the TLS files to connect with (every member, learnt ones too), or null for plaintext
     * @throws InvalidArgumentException if a TLS file is missing or is not PEM
     */
    public ClusterTransport(List<MemberAddress> addresses, Duration callTimeout, TlsFiles tls) {
        this(addresses, callTimeout, tls, null);
    }

    /**
     * gRPC, over TLS if {@code tls} is given, with a bearer token if one is given.
     *
     * @param addresses the members to start from; at least one
     * @param callTimeout the deadline of each call, redirects included
     * @param tls the TLS files to connect with (every member, learnt ones too), or null for plaintext
     * @param token a bearer token sent with every call (TLS only), or null
     * @throws InvalidArgumentException if a TLS file is missing or is not PEM, or a token is given
     *     without TLS (it would cross the network in the clear)
     */
    public ClusterTransport(List<MemberAddress> addresses, Duration callTimeout, TlsFiles tls, String token) {
        this(addresses, callTimeout, MemberChannels.netty(tls, token), null);
    }

    /**
     * As above, with a home member (ADR 0003) picked by {@code home} among the addresses: every
     * call of the client goes there, and moves only when the home fails it ({@link Members}).
     *
     * @param home picks the home; null to follow the leader as the other constructors do
     */
    public ClusterTransport(
            List<MemberAddress> addresses,
            Duration callTimeout,
            TlsFiles tls,
            String token,
            java.util.random.RandomGenerator home) {
        this(addresses, callTimeout, MemberChannels.netty(tls, token), home);
    }

    /**
     * The same calls carried over {@link io.holdfast.protocol.frame.Frames} (plaintext TCP, no
     * HTTP/2) to each member's frame port, which the addresses name.
     *
     * @param addresses the members' frame addresses; at least one
     * @param callTimeout the deadline of each call, redirects included
     */
    public static ClusterTransport overFrames(List<MemberAddress> addresses, Duration callTimeout) {
        return overFrames(addresses, callTimeout, null);
    }

    /**
     * Over frames, with a home member picked by {@code home} (null: follow the leader).
     *
     * @param addresses the members' frame addresses; at least one
     * @param callTimeout the deadline of each call, redirects included
     */
    public static ClusterTransport overFrames(
            List<MemberAddress> addresses, Duration callTimeout, java.util.random.RandomGenerator home) {
        return new ClusterTransport(addresses, callTimeout, MemberChannels.frames(), home);
    }

    private ClusterTransport(
            List<MemberAddress> addresses,
            Duration callTimeout,
            MemberChannels channels,
            java.util.random.RandomGenerator home) {
        this.callTimeout = callTimeout;
        this.members = new Members(addresses, channels, this::leaderMoved, home);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-grpc-events"));
        this.heartbeats = HeartbeatBatches.overMembers(members, scheduler, callTimeout);
        this.heartbeatsFirst = new HeartbeatsFirst(heartbeats, scheduler, callTimeout);
        this.sharedOpens = new SharedOpens(members, heartbeatsFirst::gate, scheduler);
        this.fenceChecks = FenceChecks.overMembers(members, scheduler, callTimeout);
    }

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        final io.holdfast.protocol.v1.CommandRequest request;
        try {
            request = Convert.toProto(command);
        } catch (InvalidArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        return call(HoldfastGrpc.getSubmitMethod(), request, true, Convert::fromProto);
    }

    /** Every call carries a gRPC deadline of at most the call timeout, redirects included. */
    @Override
    public boolean boundsCalls() {
        return true;
    }

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        return keepAlive(sessionId, callTimeout);
    }

    /** A heartbeat, sent with the others of this transport's sessions due with it ({@link HeartbeatBatches}). */
    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId, Duration timeout) {
        return heartbeats.beat(sessionId, timeout);
    }

    /** Heartbeats for several sessions in one call ({@code KeepAliveMany}). */
    @Override
    public CompletableFuture<List<Reply>> keepAliveMany(List<String> sessionIds) {
        return heartbeats.many(sessionIds, callTimeout);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return read(
                HoldfastGrpc.getDescribeMethod(),
                DescribeRequest.newBuilder().setName(name).build(),
                r -> r.getFound() ? Optional.of(Convert.fromProto(r.getLock())) : Optional.empty());
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return read(
                HoldfastGrpc.getListMethod(),
                ListRequest.newBuilder().setPrefix(prefix).setLimit(limit).build(),
                r -> {
                    List<LockInfo> locks = new ArrayList<>(r.getLocksCount());
                    r.getLocksList().forEach(l -> locks.add(Convert.fromProto(l)));
                    return List.copyOf(locks);
                });
    }

    /** The caller's sessions (the server knows who calls); {@code identity} is not sent. */
    @Override
    public CompletableFuture<io.holdfast.model.SessionPage> sessions(String identity, String after, int limit) {
        return call(
                HoldfastGrpc.getSessionsMethod(),
                io.holdfast.protocol.v1.SessionsRequest.newBuilder()
                        .setAfter(after == null ? "" : after)
                        .setLimit(limit)
                        .build(),
                true,
                Convert::fromProto);
    }

    /** The members as the member this client talks to (the leader, once it knows it) sees them. */
    @Override
    public CompletableFuture<io.holdfast.model.ClusterInfo> cluster() {
        return read(
                HoldfastGrpc.getMembersMethod(),
                io.holdfast.protocol.v1.MembersRequest.getDefaultInstance(),
                Convert::fromProto);
    }

    /**
     * Asks the leader to change the members (the server knows who calls; {@code identity} is not
     * sent). A configuration change waits for a new member to catch up, so it may take as long as
     * the server's staging timeout: this call waits up to {@code 30s}.
     */
    @Override
    public CompletableFuture<io.holdfast.model.ClusterInfo> changeMembers(
            String identity, io.holdfast.model.MembershipChange change) {
        return call(
                HoldfastGrpc.getChangeMembersMethod(),
                Convert.toProto(change),
                true,
                Convert::fromProto,
                java.time.Duration.ofSeconds(30));
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return fenceChecks.check(name, token);
    }

    /** Sent with this transport's other checks, as {@link #isCurrentHolder} is ({@link FenceChecks}). */
    @Override
    public CompletableFuture<List<Boolean>> isCurrentHolderMany(List<FenceCheck> checks) {
        return fenceChecks.checkAll(checks);
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return read(
                HoldfastGrpc.getReadRegisterMethod(),
                ReadRegisterRequest.newBuilder().setKey(key).build(),
                Convert::fromProto);
    }

    /**
     * A page of keys from the leader, which alone answers (a follower sends the call there); the
     * server knows who calls, so {@code identity} is not sent. A null {@code after} asks for the
     * first page.
     */
    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(String identity, String prefix, String after, int limit) {
        return keys(identity, prefix, after, limit, false);
    }

    /** Keys only: the server leaves the values out (one older than protocol version 9 does not: dropped here). */
    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(
            String identity, String prefix, String after, int limit, boolean keysOnly) {
        final io.holdfast.protocol.v1.KeysRequest request;
        try {
            request = Convert.keysRequest(prefix, after, limit, keysOnly);
        } catch (InvalidArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<io.holdfast.model.KeyPage> page =
                read(HoldfastGrpc.getKeysMethod(), request, Convert::fromProto);
        return keysOnly ? page.thenApply(io.holdfast.model.KeyPage::withoutValues) : page;
    }

    /** A long poll: its deadline is the call timeout beyond the wait. */
    @Override
    public CompletableFuture<io.holdfast.model.ChangePage> changes(
            String identity, io.holdfast.WatchTarget target, io.holdfast.model.ChangePosition from, long waitMillis) {
        return call(
                HoldfastGrpc.getWatchMethod(),
                Convert.toProto(target, from, waitMillis),
                false,
                Convert::fromProto,
                callTimeout.plusMillis(waitMillis));
    }

    @Override
    public void subscribe(String sessionId, Listener listener) {
        stream(sessionId, listener).start(Math.min(callTimeout.toMillis(), 3_000));
    }

    @Override
    public CompletableFuture<Void> subscribeAsync(String sessionId, Listener listener) {
        return stream(sessionId, listener).startAsync(Math.min(callTimeout.toMillis(), 3_000));
    }

    /** The session's new stream, in place of any it had. */
    private EventStream stream(String sessionId, Listener listener) {
        EventStream stream = new EventStream(members, scheduler, sessionId, listener, sharedOpens);
        EventStream old = streams.put(sessionId, stream);
        if (old != null) {
            old.close();
        }
        return stream;
    }

    @Override
    public void unsubscribe(String sessionId) {
        EventStream stream = streams.remove(sessionId);
        if (stream != null) {
            stream.close();
        }
    }

    /** Ends the event streams, lets calls in flight finish for up to a second, then cuts them. */
    @Override
    public void close() {
        members.markClosed();
        for (EventStream s : streams.values()) {
            s.close();
        }
        streams.clear();
        scheduler.shutdownNow();
        members.closeChannels();
    }

    @Override
    public String toString() {
        return "ClusterTransport" + members.addresses() + ", leader " + members.leader().address;
    }

    /** The members and the leader belief (the event streams and tests look at them). */
    Members members() {
        return members;
    }

    /** The member this transport's calls go to now: its home, or the believed leader. */
    public MemberAddress target() {
        return members.leader().address;
    }

    /** How many times this transport's home moved (0 when it follows the leader). */
    public int homeMoves() {
        return members.moves();
    }

    /**
     * The home (or the leader belief) changed: every event stream moves there, the started ones once
     * the new member has answered a heartbeat ({@link HeartbeatsFirst}), together on shared calls
     * ({@link SharedOpens}).
     */
    private void leaderMoved() {
        heartbeatsFirst.moved(streams.keySet().stream().findAny().orElse(null));
        sharedOpens.moving(() -> {
            for (EventStream s : streams.values()) {
                s.leaderChanged();
            }
        });
    }

    /** A read that any member may answer, within the call timeout. */
    private <Q, A, T> CompletableFuture<T> read(MethodDescriptor<Q, A> method, Q request, Function<A, T> decode) {
        return call(method, request, false, decode);
    }

    private <Q, A, T> CompletableFuture<T> call(
            MethodDescriptor<Q, A> method, Q request, boolean provesLeader, Function<A, T> decode) {
        return call(method, request, provesLeader, decode, callTimeout);
    }

    /** A call whose attempts, redirects included, must all end within {@code timeout}. */
    private <Q, A, T> CompletableFuture<T> call(
            MethodDescriptor<Q, A> method, Q request, boolean provesLeader, Function<A, T> decode, Duration timeout) {
        return RedirectingCall.send(
                members, scheduler, method, request, provesLeader, decode, timeout, RedirectingCall.LEADER_SEARCH);
    }
}
