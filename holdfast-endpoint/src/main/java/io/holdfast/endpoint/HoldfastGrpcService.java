package io.holdfast.endpoint;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Keys;
import io.holdfast.Names;
import io.holdfast.PermissionDeniedException;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.DescribeRequest;
import io.holdfast.protocol.v1.DescribeResponse;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.IsCurrentHolderManyRequest;
import io.holdfast.protocol.v1.IsCurrentHolderManyResponse;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import io.holdfast.protocol.v1.IsCurrentHolderResponse;
import io.holdfast.protocol.v1.KeepAliveManyRequest;
import io.holdfast.protocol.v1.KeepAliveManyResponse;
import io.holdfast.protocol.v1.KeepAliveRequest;
import io.holdfast.protocol.v1.KeysRequest;
import io.holdfast.protocol.v1.KeysResponse;
import io.holdfast.protocol.v1.ListRequest;
import io.holdfast.protocol.v1.ListResponse;
import io.holdfast.protocol.v1.ReadRegisterRequest;
import io.holdfast.protocol.v1.ReadRegisterResponse;
import io.holdfast.protocol.v1.ReplyMessage;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC face of any {@link LockService}: each call is handed to the backend and its outcome sent
 * back; failures become statuses as {@link GrpcErrors} describes (a {@link
 * io.holdfast.model.NotLeaderException} becomes {@code UNAVAILABLE} naming the leader). Nothing a
 * backend throws or returns ends the service: every call is answered, with {@code INTERNAL} if need
 * be.
 *
 * <p><b>Reads of what a caller may not read.</b> A call about one name ({@code Describe}, {@code
 * IsCurrentHolder}, {@code ReadRegister}, a watch of a lock or a register) is refused with {@code
 * PERMISSION_DENIED}, and so is a check of several tokens ({@code IsCurrentHolderMany}) that names
 * one; a call about many ({@code List}, {@code Keys}, a watch of a prefix or of keys) answers only
 * the names the caller may read.
 *
 * <p><b>Event streams.</b> {@code Events} keeps one stream per session, which may carry other
 * sessions of the caller too, as {@link EventStreams} describes; a {@code CloseSession} answered
 * here lets go of the session on such a shared stream.
 */
public final class HoldfastGrpcService extends HoldfastGrpc.HoldfastImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(HoldfastGrpcService.class);

    private final LockService backend;
    /** The Events stream of each session. */
    private final EventStreams streams;
    /** The spans of the calls: every call but a heartbeat and the event stream is traced ({@link SpanName}). */
    private final ServerTracing tracing = ServerTracing.global();

    public HoldfastGrpcService(LockService backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.streams = new EventStreams(backend);
    }

    @Override
    public void submit(CommandRequest request, StreamObserver<ReplyMessage> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                () -> {
                    Command command = Convert.fromProto(request);
                    CompletableFuture<Reply> reply =
                            tracing.traced(RequestSpan.of(command), () -> backend.submit(command, identity));
                    if (command instanceof Command.CloseSession close && reply != null) {
                        String sessionId = close.invocation().sessionId();
                        return reply.thenApply(r -> {
                            if (r instanceof Reply.Ok
                                    || (r instanceof Reply.Failed f
                                            && f.code() == io.holdfast.ErrorCode.SESSION_EXPIRED)) {
                                streams.sessionClosed(sessionId);
                            }
                            return r;
                        });
                    }
                    return reply;
                },
                Convert::toProto);
    }

    @Override
    public void keepAlive(KeepAliveRequest request, StreamObserver<ReplyMessage> out) {
        unary(out, () -> ownSession(request.getSessionId()).thenCompose(backend::keepAlive), Convert::toProto);
    }

    /** Heartbeats for several of the caller's sessions: see {@link ManyHeartbeats}. */
    @Override
    public void keepAliveMany(KeepAliveManyRequest request, StreamObserver<KeepAliveManyResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(out, () -> ManyHeartbeats.answer(backend, identity, request.getSessionIdsList()), r -> r);
    }

    /** The session id, or a failure if it belongs to another identity than the caller's. */
    private CompletableFuture<String> ownSession(String sessionId) {
        String identity = Authenticator.IDENTITY.get();
        if (!backend.mayUseSession(identity, sessionId)) {
            return CompletableFuture.failedFuture(EventStreams.notYours(sessionId, identity));
        }
        return CompletableFuture.completedFuture(sessionId);
    }

    /** The refusal of a read of {@code name} by {@code identity} (null: unauthenticated). */
    static PermissionDeniedException mayNotRead(String identity, String name) {
        return new PermissionDeniedException(
                (identity == null ? "an unauthenticated client" : "identity " + identity) + " may not read " + name);
    }

    /** The name, or a failure if the caller may not read it. */
    private CompletableFuture<String> readable(String name) {
        String identity = Authenticator.IDENTITY.get();
        if (!backend.mayRead(identity, name)) {
            return CompletableFuture.failedFuture(mayNotRead(identity, name));
        }
        return CompletableFuture.completedFuture(name);
    }

    @Override
    public void describe(DescribeRequest request, StreamObserver<DescribeResponse> out) {
        unary(
                out,
                traced(
                        SpanName.LOCK_DESCRIBE,
                        request.getName(),
                        () -> readable(request.getName()).thenCompose(backend::describe)),
                info -> info.map(i -> DescribeResponse.newBuilder()
                                .setFound(true)
                                .setLock(Convert.toProto(i))
                                .build())
                        .orElse(DescribeResponse.getDefaultInstance()));
    }

    @Override
    public void list(ListRequest request, StreamObserver<ListResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                traced(SpanName.LOCK_LIST, null, () -> backend.list(request.getPrefix(), request.getLimit())),
                locks -> {
                    ListResponse.Builder b = ListResponse.newBuilder();
                    // Only what the caller may read: a list is never a way around describe's check.
                    locks.stream()
                            .filter(l -> backend.mayRead(identity, l.name()))
                            .forEach(l -> b.addLocks(Convert.toProto(l)));
                    return b.build();
                });
    }

    @Override
    public void isCurrentHolder(IsCurrentHolderRequest request, StreamObserver<IsCurrentHolderResponse> out) {
        unary(
                out,
                traced(
                        SpanName.FENCE_CHECK,
                        request.getName(),
                        () -> readable(request.getName())
                                .thenCompose(n -> backend.isCurrentHolder(n, request.getToken()))),
                current -> IsCurrentHolderResponse.newBuilder()
                        .setCurrent(Boolean.TRUE.equals(current))
                        .build());
    }

    /** Several tokens in one read: see {@link ManyFenceChecks}. */
    @Override
    public void isCurrentHolderMany(
            IsCurrentHolderManyRequest request, StreamObserver<IsCurrentHolderManyResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                traced(SpanName.FENCE_CHECK, null, () -> ManyFenceChecks.answer(backend, identity, request)),
                r -> r);
    }

    @Override
    public void readRegister(ReadRegisterRequest request, StreamObserver<ReadRegisterResponse> out) {
        unary(
                out,
                traced(
                        SpanName.REGISTER_READ,
                        request.getKey(),
                        () -> readable(request.getKey()).thenCompose(backend::readRegister)),
                Convert::toProto);
    }

    /** The longest page of {@link Keys}, and the page of a request that sets no limit. */
    static final int MAX_KEY_PAGE = Keys.MAX_PAGE;

    @Override
    public void keys(KeysRequest request, StreamObserver<KeysResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                traced(SpanName.KEY_LIST, null, () -> {
                    int limit = request.getLimit() == 0 ? MAX_KEY_PAGE : request.getLimit();
                    if (limit < 1 || limit > MAX_KEY_PAGE) {
                        throw new InvalidArgumentException("keys.limit must be 1 to " + MAX_KEY_PAGE + " (0 for "
                                + MAX_KEY_PAGE + "), not " + request.getLimit());
                    }
                    String prefix = request.getPrefix();
                    if (!prefix.isEmpty()) {
                        checkName("keys.prefix", prefix);
                    }
                    String after = request.getAfter();
                    if (!after.isEmpty()) {
                        checkName("keys.after", after);
                    }
                    return backend.keys(identity, prefix, after, limit, request.getKeysOnly());
                }),
                Convert::toProto);
    }

    /** Refuses a name that breaks {@link Names}' rules, naming the field. */
    private static void checkName(String field, String name) {
        try {
            Names.check(name);
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException(field + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void sessions(
            io.holdfast.protocol.v1.SessionsRequest request,
            StreamObserver<io.holdfast.protocol.v1.SessionsResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        String after = request.getAfter().isEmpty() ? null : request.getAfter();
        unary(
                out,
                traced(SpanName.SESSION_LIST, null, () -> backend.sessions(identity, after, request.getLimit())),
                Convert::toProto);
    }

    @Override
    public void members(
            io.holdfast.protocol.v1.MembersRequest request,
            StreamObserver<io.holdfast.protocol.v1.MembersResponse> out) {
        unary(out, traced(SpanName.MEMBER_LIST, null, backend::cluster), Convert::toProto);
    }

    @Override
    public void changeMembers(
            io.holdfast.protocol.v1.ChangeMembersRequest request,
            StreamObserver<io.holdfast.protocol.v1.MembersResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                traced(SpanName.MEMBER_CHANGE, null, () -> backend.changeMembers(identity, Convert.fromProto(request))),
                Convert::toProto);
    }

    /** The longest long poll a watch may ask for. */
    static final long MAX_WATCH_WAIT_MILLIS = 60_000;

    @Override
    public void watch(
            io.holdfast.protocol.v1.WatchRequest request, StreamObserver<io.holdfast.protocol.v1.WatchResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                () -> {
                    io.holdfast.WatchTarget target = Convert.target(request);
                    io.holdfast.model.ChangePosition from = Convert.from(request);
                    long wait = request.getWaitMillis();
                    if (wait < 0 || wait > MAX_WATCH_WAIT_MILLIS) {
                        throw new InvalidArgumentException(
                                "watch.wait_millis must be 0 to " + MAX_WATCH_WAIT_MILLIS + ", not " + wait);
                    }
                    return tracing.traced(RequestSpan.read(SpanName.WATCH_POLL, target.name()), () -> {
                        boolean many = target.kind() == io.holdfast.WatchTarget.Kind.PREFIX
                                || target.kind() == io.holdfast.WatchTarget.Kind.KEYS;
                        CompletableFuture<String> allowed =
                                many ? CompletableFuture.completedFuture(target.name()) : readable(target.name());
                        return allowed.thenCompose(n -> backend.changes(identity, target, from, wait));
                    });
                },
                page -> {
                    // Only what the caller may read: a prefix watch is never a way around describe's check.
                    var events = page.events().stream()
                            .filter(e -> backend.mayRead(identity, e.name()))
                            .toList();
                    // Deleted keys in the form the reader knows (it says so with `deletions`).
                    return Convert.toProto(new io.holdfast.model.ChangePage(events, page.next(), page.gap()), request);
                });
    }

    /** A read of the backend in its request's span ({@link SpanName}'s name for it), about {@code lock} or null. */
    private <T> Supplier<CompletableFuture<T>> traced(SpanName read, String lock, Supplier<CompletableFuture<T>> call) {
        return () -> tracing.traced(RequestSpan.read(read, lock), call);
    }

    /**
     * Calls the backend and answers with the converted outcome. Conversion errors, exceptions thrown
     * by the backend, a null future and failed futures all become a status, never an escaped
     * exception.
     */
    private static <T, R> void unary(
            StreamObserver<R> out, Supplier<CompletableFuture<T>> call, Function<? super T, R> convert) {
        CompletableFuture<T> future;
        try {
            future = call.get();
            if (future == null) {
                throw new IllegalStateException("the lock service returned no future");
            }
        } catch (RuntimeException | Error e) {
            fail(out, e);
            rethrowIfFatal(e);
            return;
        }
        future.whenComplete((value, error) -> {
            if (error != null) {
                fail(out, error);
                return;
            }
            R message;
            try {
                message = convert.apply(value);
            } catch (RuntimeException e) {
                // The backend's answer cannot be encoded: a bug on this side, not the caller's.
                fail(out, new IllegalStateException("cannot encode the answer " + value + ": " + e.getMessage(), e));
                return;
            }
            try {
                out.onNext(message);
                out.onCompleted();
            } catch (RuntimeException callGone) {
                LOG.debug("could not answer a call that ended meanwhile", callGone);
            }
        });
    }

    private static void fail(StreamObserver<?> out, Throwable error) {
        var status = GrpcErrors.toStatus(error);
        if (status.getStatus().getCode() == Status.Code.INTERNAL) {
            LOG.warn("a call failed unexpectedly; answered INTERNAL", GrpcErrors.unwrap(error));
        }
        try {
            out.onError(status);
        } catch (RuntimeException callGone) {
            LOG.debug("could not fail a call that ended meanwhile", callGone);
        }
    }

    private static void rethrowIfFatal(Throwable t) {
        if (t instanceof VirtualMachineError fatal) {
            throw fatal;
        }
    }

    // ------------------------------------------------------------------------------------- events

    @Override
    public void events(EventsRequest request, StreamObserver<EventMessage> observer) {
        String identity = Authenticator.IDENTITY.get();
        if (request.getSessionIdsCount() == 0) {
            streams.open(request.getSessionId(), identity, observer);
        } else if (!request.getSessionId().isEmpty()) {
            observer.onError(io.grpc.Status.INVALID_ARGUMENT
                    .withDescription("an event stream names its sessions in session_id or session_ids, not both")
                    .asRuntimeException());
        } else {
            streams.open(request.getSessionIdsList(), true, identity, observer);
        }
    }

    /**
     * Ends every event stream with {@code UNAVAILABLE} and drops their backend subscriptions: for a
     * server that shuts down, so that clients reconnect (elsewhere) at once.
     */
    public void endAllStreams() {
        streams.endAll();
    }

    /** The number of sessions with an open event stream (for tests and metrics). */
    public int streamCount() {
        return streams.count();
    }
}
