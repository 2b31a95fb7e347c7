// Ceiling 640 lines, one idea: the gRPC transport to a set of members (channels, leader tracking,
// failover, per-member failure reasons); its event streams are their own file (EventStream).
package io.holdfast.client.internal;

import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockInfo;
import io.holdfast.UnavailableException;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.protocol.v1.DescribeRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import io.holdfast.protocol.v1.KeepAliveRequest;
import io.holdfast.protocol.v1.ListRequest;
import io.holdfast.protocol.v1.ReadRegisterRequest;
import io.holdfast.spi.DaemonThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The {@link LockService} of a Holdfast cluster, reached over gRPC (plaintext or TLS), or with the
 * same calls over frames ({@link #overFrames}: {@link io.holdfast.protocol.frame.FrameChannel}).
 *
 * <p><b>For maintainers.</b> The transport keeps one channel per member it knows (the addresses it
 * was given, plus leaders that members named) and a belief of which member leads. Every call goes
 * to the believed leader. A member that answers {@code UNAVAILABLE} naming the leader (the {@code
 * holdfast-leader} trailer) is left for that leader at once, at most twice the number of members
 * per call; a member that answers {@code UNAVAILABLE} without a name, or cannot be reached, is left
 * for the next member not yet tried in this call; when every member has been tried, the call
 * fails with {@link UnavailableException}, and the runtime's retry policy decides when to try
 * again (re-sending the same invocation, which is safe). A whole call, redirects included, has one
 * deadline (the request timeout); when it passes, the call fails with {@link UnavailableException}
 * and the next call starts at the next member.
 *
 * <p>Only {@code Submit} and {@code KeepAlive} answered by a member prove that it leads (reads may
 * be answered by followers); the leader named in a trailer is believed at once. When the belief
 * changes, event streams move to the new leader ({@link EventStream}).
 */
public final class GrpcTransport implements LockService {
    /** Members learnt from leader hints are added up to this many, against a confused cluster. */
    private static final int MAX_MEMBERS = 64;

    private static final int MAX_INBOUND_BYTES = 16 * 1024 * 1024;

    private final List<Member> members = new CopyOnWriteArrayList<>();
    private final Duration callTimeout;
    /** Makes the channel to a member: gRPC over HTTP/2 (Netty), or over frames. */
    private final Function<MemberAddress, ManagedChannel> channels;

    private final ScheduledExecutorService scheduler;
    private final Map<String, EventStream> streams = new ConcurrentHashMap<>();
    private volatile Member leader;
    private volatile boolean closed;

    /**
     * @param addresses the members to start from; at least one
     * @param callTimeout the deadline of each call, redirects included
     */
    public GrpcTransport(List<MemberAddress> addresses, Duration callTimeout) {
        this(addresses, callTimeout, (TlsFiles) null);
    }

    /**
     * @param addresses the members to start from; at least one
     * @param callTimeout the deadline of each call, redirects included
     * @param tls the TLS files to connect with (every member, learnt ones too), or null for plaintext
     * @throws InvalidArgumentException if a TLS file is missing or is not PEM
     */
    public GrpcTransport(List<MemberAddress> addresses, Duration callTimeout, TlsFiles tls) {
        this(addresses, callTimeout, tls, null);
    }

    /**
     * @param addresses the members to start from; at least one
     * @param callTimeout the deadline of each call, redirects included
     * @param tls the TLS files to connect with (every member, learnt ones too), or null for plaintext
     * @param token a bearer token sent with every call (TLS only), or null
     * @throws InvalidArgumentException if a TLS file is missing or is not PEM, or a token is given
     *     without TLS (it would cross the network in the clear)
     */
    public GrpcTransport(List<MemberAddress> addresses, Duration callTimeout, TlsFiles tls, String token) {
        this(addresses, callTimeout, nettyChannels(tls, token));
    }

    /**
     * The same calls carried over {@link io.holdfast.protocol.frame.Frames} (plaintext TCP, no
     * HTTP/2) to each member's frame port, which the addresses name.
     *
     * @param addresses the members' frame addresses; at least one
     * @param callTimeout the deadline of each call, redirects included
     */
    public static GrpcTransport overFrames(List<MemberAddress> addresses, Duration callTimeout) {
        return new GrpcTransport(
                addresses,
                callTimeout,
                a -> new io.holdfast.protocol.frame.FrameChannel(a.host(), a.port(), MAX_INBOUND_BYTES));
    }

    private GrpcTransport(
            List<MemberAddress> addresses, Duration callTimeout, Function<MemberAddress, ManagedChannel> channels) {
        if (addresses.isEmpty()) {
            throw new InvalidArgumentException("a Holdfast cluster needs at least one member address");
        }
        this.callTimeout = callTimeout;
        this.channels = channels;
        for (MemberAddress a : addresses) {
            if (members.stream().noneMatch(m -> m.address.equals(a))) {
                members.add(new Member(a, channels.apply(a)));
            }
        }
        this.leader = members.get(0);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-grpc-events"));
    }

    /** Netty channels with these credentials; checks them first. */
    private static Function<MemberAddress, ManagedChannel> nettyChannels(TlsFiles tls, String token) {
        if (token != null && tls == null) {
            throw new InvalidArgumentException("a bearer token is only sent over TLS (add ca=FILE or tls=true)");
        }
        ChannelCredentials credentials;
        try {
            ChannelCredentials channel = tls == null ? null : tls.channelCredentials();
            credentials = token == null
                    ? channel
                    : io.grpc.CompositeChannelCredentials.create(channel, new BearerToken(token));
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(e.getMessage(), e);
        }
        return address -> nettyChannel(address, credentials);
    }

    private static ManagedChannel nettyChannel(MemberAddress address, ChannelCredentials credentials) {
        NettyChannelBuilder builder = credentials == null
                ? NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext()
                : NettyChannelBuilder.forAddress(address.host(), address.port(), credentials);
        return builder
                // Answers are handled on the I/O thread that read them, not handed to a pool:
                // a hop per call costs a context switch (measured: about a quarter of the
                // client's CPU). What runs there only completes futures and updates state; the
                // runtime hands everything that runs caller code to its callback threads.
                .directExecutor()
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .maxInboundMessageSize(MAX_INBOUND_BYTES)
                .build();
    }

    // ------------------------------------------------------------------------------ LockService

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

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId, Duration timeout) {
        return call(
                HoldfastGrpc.getKeepAliveMethod(),
                KeepAliveRequest.newBuilder().setSessionId(sessionId).build(),
                true,
                Convert::fromProto,
                timeout.compareTo(callTimeout) < 0 ? timeout : callTimeout);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return call(
                HoldfastGrpc.getDescribeMethod(),
                DescribeRequest.newBuilder().setName(name).build(),
                false,
                r -> r.getFound() ? Optional.of(Convert.fromProto(r.getLock())) : Optional.empty());
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return call(
                HoldfastGrpc.getListMethod(),
                ListRequest.newBuilder().setPrefix(prefix).setLimit(limit).build(),
                false,
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
        return call(
                HoldfastGrpc.getMembersMethod(),
                io.holdfast.protocol.v1.MembersRequest.getDefaultInstance(),
                false,
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

    /** A copy of the table from the leader ({@code identity} is not sent: the server knows who calls). */
    @Override
    public CompletableFuture<io.holdfast.model.TableCopy> backup(String identity) {
        return call(
                HoldfastGrpc.getBackupMethod(),
                io.holdfast.protocol.v1.BackupRequest.getDefaultInstance(),
                true,
                r -> new io.holdfast.model.TableCopy(
                        r.getIndex(),
                        r.getTerm(),
                        r.getTakenAtMillis(),
                        r.getTable().toByteArray()),
                java.time.Duration.ofSeconds(60));
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return call(
                HoldfastGrpc.getIsCurrentHolderMethod(),
                IsCurrentHolderRequest.newBuilder()
                        .setName(name)
                        .setToken(token)
                        .build(),
                false,
                r -> r.getCurrent());
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return call(
                HoldfastGrpc.getReadRegisterMethod(),
                ReadRegisterRequest.newBuilder().setKey(key).build(),
                false,
                Convert::fromProto);
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
        EventStream stream = new EventStream(this, sessionId, listener);
        EventStream old = streams.put(sessionId, stream);
        if (old != null) {
            old.close();
        }
        stream.start(Math.min(callTimeout.toMillis(), 3_000));
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
        closed = true;
        for (EventStream s : streams.values()) {
            s.close();
        }
        streams.clear();
        scheduler.shutdownNow();
        synchronized (members) { // no member is added after this (memberFor checks `closed`)
            members.forEach(m -> m.channel.shutdown());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        try {
            for (Member m : members) {
                m.channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            members.forEach(m -> m.channel.shutdownNow());
        }
    }

    @Override
    public String toString() {
        return "GrpcTransport" + addresses() + ", leader " + leader.address;
    }

    // ------------------------------------------------------------------------------ members

    /** Sends {@code authorization: Bearer TOKEN} with every call. */
    static final class BearerToken extends io.grpc.CallCredentials {
        private static final io.grpc.Metadata.Key<String> AUTHORIZATION =
                io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER);
        private final String token;

        BearerToken(String token) {
            if (token.isBlank() || !token.chars().allMatch(c -> c > 32 && c < 127)) {
                throw new InvalidArgumentException("a bearer token is printable ASCII without spaces");
            }
            this.token = token;
        }

        @Override
        public void applyRequestMetadata(
                RequestInfo info, java.util.concurrent.Executor executor, MetadataApplier applier) {
            io.grpc.Metadata headers = new io.grpc.Metadata();
            headers.put(AUTHORIZATION, "Bearer " + token);
            applier.apply(headers);
        }

        @Override
        public String toString() {
            return "BearerToken[...]"; // never the token
        }
    }

    /** One server: its address and channel. */
    static final class Member {
        final MemberAddress address;
        final ManagedChannel channel;

        Member(MemberAddress address, ManagedChannel channel) {
            this.address = address;
            this.channel = channel;
        }

        @Override
        public String toString() {
            return address.toString();
        }
    }

    /** The members known, in the order given (learnt ones last). */
    List<MemberAddress> addresses() {
        return members.stream().map(m -> m.address).toList();
    }

    /** The member believed to lead. */
    Member leader() {
        return leader;
    }

    boolean isClosed() {
        return closed;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** Believe that this member leads; event streams follow. */
    void noteLeader(Member m) {
        if (leader != m) {
            leader = m;
            for (EventStream s : streams.values()) {
                s.leaderChanged();
            }
        }
    }

    /** After a failure of this member without a better idea: the next call starts at its successor. */
    void moveOnFrom(Member m) {
        if (leader == m) {
            int i = members.indexOf(m);
            noteLeader(members.get((i + 1) % members.size()));
        }
    }

    /** The member a {@code holdfast-leader} hint names (added if new), or null for a useless hint. */
    Member memberFor(String hint) {
        if (hint == null) {
            return null;
        }
        MemberAddress address;
        try {
            address = MemberAddress.parse(hint, false);
        } catch (InvalidArgumentException bad) {
            return null;
        }
        synchronized (members) {
            for (Member m : members) {
                if (m.address.equals(address)) {
                    return m;
                }
            }
            if (closed || members.size() >= MAX_MEMBERS) {
                return null;
            }
            Member added = new Member(address, channels.apply(address));
            members.add(added);
            return added;
        }
    }

    /** The leader a failed call's trailers name, if any. */
    Member hintedLeader(Throwable failure) {
        Metadata trailers = Status.trailersFromThrowable(failure);
        return trailers == null ? null : memberFor(trailers.get(GrpcErrors.LEADER));
    }

    // ------------------------------------------------------------------------------ unary calls

    private <Q, A, T> CompletableFuture<T> call(
            MethodDescriptor<Q, A> method, Q request, boolean provesLeader, Function<A, T> decode) {
        return call(method, request, provesLeader, decode, callTimeout);
    }

    /** A call whose attempts, redirects included, must all end within {@code timeout}. */
    private <Q, A, T> CompletableFuture<T> call(
            MethodDescriptor<Q, A> method, Q request, boolean provesLeader, Function<A, T> decode, Duration timeout) {
        if (closed) {
            return CompletableFuture.failedFuture(new UnavailableException("the client is closed"));
        }
        UnaryCall<Q, A> call = new UnaryCall<>(method, request, provesLeader, timeout);
        call.send(leader);
        return call.result.thenApply(answer -> {
            try {
                return decode.apply(answer);
            } catch (InvalidArgumentException e) {
                throw new UnavailableException("cannot read the server's answer: " + e.getMessage(), e);
            }
        });
    }

    /**
     * Why a member could not serve a call, from the deepest cause that says something: "connection
     * refused" (nothing listens at its address), "unknown host …", "no route to host", or else the
     * cause's own message, or the status the member answered with ("UNAVAILABLE no leader").
     */
    static String reason(Status status, Throwable failure) {
        Throwable deepest = io.holdfast.spi.Causes.deepest(
                failure, c -> c instanceof io.grpc.StatusRuntimeException || c instanceof io.grpc.StatusException);
        if (deepest == null) {
            return status.getCode() + (status.getDescription() == null ? "" : " " + status.getDescription());
        }
        String message = deepest.getMessage().strip();
        if (message.toLowerCase(java.util.Locale.ROOT).contains("connection refused")) {
            return "connection refused";
        } else if (deepest instanceof java.net.UnknownHostException) {
            return "unknown host " + message;
        } else if (deepest instanceof java.net.NoRouteToHostException) {
            return "no route to host";
        }
        return message;
    }

    /** One call and its redirects; each attempt starts when the previous one has failed. */
    private final class UnaryCall<Q, A> {
        final MethodDescriptor<Q, A> method;
        final Q request;
        final boolean provesLeader;
        final CompletableFuture<A> result = new CompletableFuture<>();
        final Duration timeout;
        final Deadline deadline;
        final Set<Member> tried = new HashSet<>();
        /** Why each member tried could not serve the call ("connection refused"), in order. */
        final Map<Member, String> reasons = new java.util.LinkedHashMap<>();

        final int maxRedirects = 2 * members.size();
        int redirects;

        UnaryCall(MethodDescriptor<Q, A> method, Q request, boolean provesLeader, Duration timeout) {
            this.method = method;
            this.request = request;
            this.provesLeader = provesLeader;
            this.timeout = timeout;
            this.deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        void send(Member m) {
            if (closed) {
                result.completeExceptionally(new UnavailableException("the client is closed"));
                return;
            }
            ClientCall<Q, A> call = m.channel.newCall(method, CallOptions.DEFAULT.withDeadline(deadline));
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
                        noteLeader(m);
                    }
                    result.complete(answer);
                }
            });
        }

        void failed(Member m, Throwable t) {
            Status status = Status.fromThrowable(t);
            if (closed) {
                result.completeExceptionally(new UnavailableException("the client is closed", t));
            } else if (status.getCode() == Status.Code.UNAVAILABLE) {
                Member hinted = hintedLeader(t);
                if (hinted != null && hinted != m && redirects < maxRedirects) {
                    redirects++;
                    noteLeader(hinted);
                    send(hinted);
                    return;
                }
                tried.add(m);
                reasons.put(m, reason(status, t));
                m.channel.resetConnectBackoff(); // we back off ourselves: the next try should connect
                Member next = nextUntried(m);
                if (next != null) {
                    send(next);
                    return;
                }
                moveOnFrom(m);
                StringBuilder why = new StringBuilder();
                reasons.forEach((member, reason) -> why.append(why.length() == 0 ? "" : "; ")
                        .append(member)
                        .append(": ")
                        .append(reason));
                result.completeExceptionally(new UnavailableException(
                        "no member of " + addresses() + " could serve the call (" + why + ")", t));
            } else if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
                moveOnFrom(m);
                result.completeExceptionally(new UnavailableException(m + " did not answer within " + timeout, t));
            } else {
                result.completeExceptionally(GrpcErrors.toException(t, m.toString()));
            }
        }

        private Member nextUntried(Member after) {
            int start = members.indexOf(after);
            int n = members.size();
            for (int i = 1; i <= n; i++) {
                Member m = members.get((start + i) % n);
                if (!tried.contains(m)) {
                    return m;
                }
            }
            return null;
        }
    }
}
