// Ceiling 450 lines, one idea: the gRPC face of a LockService, one short method per call of
// holdfast.proto and the event streams; the conversions are the *Messages classes.
package io.holdfast.endpoint;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.holdfast.PermissionDeniedException;
import io.holdfast.UnavailableException;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.DescribeRequest;
import io.holdfast.protocol.v1.DescribeResponse;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import io.holdfast.protocol.v1.IsCurrentHolderResponse;
import io.holdfast.protocol.v1.KeepAliveRequest;
import io.holdfast.protocol.v1.ListRequest;
import io.holdfast.protocol.v1.ListResponse;
import io.holdfast.protocol.v1.ReadRegisterRequest;
import io.holdfast.protocol.v1.ReadRegisterResponse;
import io.holdfast.protocol.v1.ReplyMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p><b>Event streams.</b> {@code Events} subscribes to the backend for the session and sends
 * {@code started} once subscribed, then every event, and {@code gap} whenever the backend reports
 * one (or an event cannot be encoded). A session has one stream: a newer stream replaces the
 * older, which is completed. When the client cancels, the backend subscription is dropped, unless a
 * newer stream has taken it over. If the backend's {@code subscribe} throws (a follower refusing
 * with {@link io.holdfast.model.NotLeaderException}), or the backend later ends the subscription
 * ({@link LockService.Listener#onEnd}, when this node stops leading), the stream ends with the
 * status of that exception, so the client goes to the leader it names.
 */
public final class HoldfastGrpcService extends HoldfastGrpc.HoldfastImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(HoldfastGrpcService.class);

    private final LockService backend;
    /** The current stream of each session; guarded by itself, which also orders (un)subscribing. */
    private final Map<String, Subscription> streams = new HashMap<>();
    /** The spans of submits and watch polls. */
    private final ServerTracing tracing = ServerTracing.global();

    public HoldfastGrpcService(LockService backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    @Override
    public void submit(CommandRequest request, StreamObserver<ReplyMessage> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                () -> {
                    Command command = Convert.fromProto(request);
                    return tracing.traced(
                            ServerTracing.name(command),
                            ServerTracing.lock(command),
                            () -> backend.submit(command, identity));
                },
                Convert::toProto);
    }

    @Override
    public void keepAlive(KeepAliveRequest request, StreamObserver<ReplyMessage> out) {
        unary(out, () -> ownSession(request.getSessionId()).thenCompose(backend::keepAlive), Convert::toProto);
    }

    /** The session id, or a failure if it belongs to another identity than the caller's. */
    private CompletableFuture<String> ownSession(String sessionId) {
        String identity = Authenticator.IDENTITY.get();
        if (!backend.mayUseSession(identity, sessionId)) {
            return CompletableFuture.failedFuture(
                    new PermissionDeniedException("session " + sessionId + " belongs to another identity than "
                            + (identity == null ? "an unauthenticated client" : identity)));
        }
        return CompletableFuture.completedFuture(sessionId);
    }

    /** The name, or a failure if the caller may not read it. */
    private CompletableFuture<String> readable(String name) {
        String identity = Authenticator.IDENTITY.get();
        if (!backend.mayRead(identity, name)) {
            return CompletableFuture.failedFuture(new PermissionDeniedException(
                    (identity == null ? "an unauthenticated client" : "identity " + identity) + " may not read "
                            + name));
        }
        return CompletableFuture.completedFuture(name);
    }

    @Override
    public void describe(DescribeRequest request, StreamObserver<DescribeResponse> out) {
        unary(
                out,
                () -> readable(request.getName()).thenCompose(backend::describe),
                info -> info.map(i -> DescribeResponse.newBuilder()
                                .setFound(true)
                                .setLock(Convert.toProto(i))
                                .build())
                        .orElse(DescribeResponse.getDefaultInstance()));
    }

    @Override
    public void list(ListRequest request, StreamObserver<ListResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(out, () -> backend.list(request.getPrefix(), request.getLimit()), locks -> {
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
                () -> readable(request.getName()).thenCompose(n -> backend.isCurrentHolder(n, request.getToken())),
                current -> IsCurrentHolderResponse.newBuilder()
                        .setCurrent(Boolean.TRUE.equals(current))
                        .build());
    }

    @Override
    public void readRegister(ReadRegisterRequest request, StreamObserver<ReadRegisterResponse> out) {
        unary(out, () -> readable(request.getKey()).thenCompose(backend::readRegister), Convert::toProto);
    }

    @Override
    public void sessions(
            io.holdfast.protocol.v1.SessionsRequest request,
            StreamObserver<io.holdfast.protocol.v1.SessionsResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        String after = request.getAfter().isEmpty() ? null : request.getAfter();
        unary(out, () -> backend.sessions(identity, after, request.getLimit()), Convert::toProto);
    }

    @Override
    public void members(
            io.holdfast.protocol.v1.MembersRequest request,
            StreamObserver<io.holdfast.protocol.v1.MembersResponse> out) {
        unary(out, backend::cluster, Convert::toProto);
    }

    @Override
    public void changeMembers(
            io.holdfast.protocol.v1.ChangeMembersRequest request,
            StreamObserver<io.holdfast.protocol.v1.MembersResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(out, () -> backend.changeMembers(identity, Convert.fromProto(request)), Convert::toProto);
    }

    @Override
    public void backup(
            io.holdfast.protocol.v1.BackupRequest request, StreamObserver<io.holdfast.protocol.v1.BackupResponse> out) {
        String identity = Authenticator.IDENTITY.get();
        unary(
                out,
                () -> backend.backup(identity),
                copy -> io.holdfast.protocol.v1.BackupResponse.newBuilder()
                        .setIndex(copy.index())
                        .setTerm(copy.term())
                        .setTakenAtMillis(copy.takenAtMillis())
                        .setTable(com.google.protobuf.ByteString.copyFrom(copy.table()))
                        .build());
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
                        throw new io.holdfast.InvalidArgumentException(
                                "watch.wait_millis must be 0 to " + MAX_WATCH_WAIT_MILLIS + ", not " + wait);
                    }
                    return tracing.traced("holdfast.watch.poll", target.name(), () -> {
                        CompletableFuture<String> allowed = target.kind() == io.holdfast.WatchTarget.Kind.PREFIX
                                ? CompletableFuture.completedFuture(target.name())
                                : readable(target.name());
                        return allowed.thenCompose(n -> backend.changes(identity, target, from, wait));
                    });
                },
                page -> {
                    // Only what the caller may read: a prefix watch is never a way around describe's check.
                    var events = page.events().stream()
                            .filter(e -> backend.mayRead(identity, e.name()))
                            .toList();
                    return Convert.toProto(new io.holdfast.model.ChangePage(events, page.next(), page.gap()));
                });
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
        String sessionId = request.getSessionId();
        if (sessionId.isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT
                    .withDescription("events need a session id")
                    .asRuntimeException());
            return;
        }
        String identity = Authenticator.IDENTITY.get();
        if (!backend.mayUseSession(identity, sessionId)) {
            observer.onError(GrpcErrors.toStatus(
                    new PermissionDeniedException("session " + sessionId + " belongs to another identity than "
                            + (identity == null ? "an unauthenticated client" : identity))));
            return;
        }
        ServerCallStreamObserver<EventMessage> out = (ServerCallStreamObserver<EventMessage>) observer;
        Subscription sub = new Subscription(sessionId, out);
        out.setOnCancelHandler(() -> cancelled(sub));
        Subscription replaced;
        synchronized (streams) {
            // The subscription's lock is held until `started` is out, so that events the backend
            // delivers at once wait behind it.
            synchronized (sub) {
                try {
                    backend.subscribe(sessionId, sub);
                } catch (RuntimeException e) {
                    sub.end(e);
                    return;
                }
                replaced = streams.put(sessionId, sub);
                sub.send(Convert.started(sessionId));
            }
        }
        if (replaced != null) {
            replaced.complete();
        }
    }

    /** The client went away (or the call was cancelled): drop the backend subscription if still ours. */
    private void cancelled(Subscription sub) {
        sub.close();
        synchronized (streams) {
            if (streams.remove(sub.sessionId, sub)) {
                try {
                    backend.unsubscribe(sub.sessionId);
                } catch (RuntimeException e) {
                    LOG.warn("unsubscribing session " + sub.sessionId + " failed", e);
                }
            }
        }
    }

    /**
     * Ends every event stream with {@code UNAVAILABLE} and drops their backend subscriptions: for a
     * server that shuts down, so that clients reconnect (elsewhere) at once.
     */
    public void endAllStreams() {
        List<Subscription> ended;
        synchronized (streams) {
            ended = new ArrayList<>(streams.values());
            streams.clear();
            for (Subscription sub : ended) {
                try {
                    backend.unsubscribe(sub.sessionId);
                } catch (RuntimeException e) {
                    LOG.warn("unsubscribing session " + sub.sessionId + " failed", e);
                }
            }
        }
        for (Subscription sub : ended) {
            sub.end(Status.UNAVAILABLE
                    .withDescription("the server is shutting down")
                    .asRuntimeException());
        }
    }

    /** The number of sessions with an open event stream (for tests and metrics). */
    public int streamCount() {
        synchronized (streams) {
            return streams.size();
        }
    }

    /**
     * One session's stream: the backend's listener, writing to the call one message at a time.
     * Locks: the service's {@code streams} before a subscription's own, never the other way.
     */
    private final class Subscription implements LockService.Listener {
        private final String sessionId;
        private final ServerCallStreamObserver<EventMessage> out;
        private boolean closed; // guarded by this

        Subscription(String sessionId, ServerCallStreamObserver<EventMessage> out) {
            this.sessionId = sessionId;
            this.out = out;
        }

        @Override
        public synchronized void onEvent(io.holdfast.model.Event event) {
            EventMessage message;
            try {
                message = Convert.toProto(event);
            } catch (RuntimeException e) {
                LOG.warn("cannot encode event " + event + "; the client is told of a gap", e);
                message = Convert.gap(sessionId);
            }
            send(message);
        }

        @Override
        public synchronized void onGap() {
            send(Convert.gap(sessionId));
        }

        /**
         * The backend ended the subscription (this node stopped leading, or shuts down): the stream
         * ends with the status of the cause, so a {@link io.holdfast.model.NotLeaderException}
         * sends the client to the leader it names.
         */
        @Override
        public void onEnd(Throwable cause) {
            synchronized (streams) {
                streams.remove(sessionId, this); // the backend has dropped it already
            }
            end(cause != null ? cause : new UnavailableException("the lock service ended the event stream"));
        }

        synchronized void send(EventMessage message) {
            if (closed) {
                return;
            }
            try {
                out.onNext(message);
            } catch (RuntimeException callGone) {
                closed = true;
                LOG.debug("event stream of a session ended while sending", callGone);
            }
        }

        /** Replaced by a newer stream of the same session. */
        synchronized void complete() {
            if (!closed) {
                closed = true;
                try {
                    out.onCompleted();
                } catch (RuntimeException callGone) {
                    LOG.debug("event stream ended before completion", callGone);
                }
            }
        }

        synchronized void end(Throwable why) {
            if (!closed) {
                closed = true;
                try {
                    out.onError(GrpcErrors.toStatus(why));
                } catch (RuntimeException callGone) {
                    LOG.debug("event stream ended before its error", callGone);
                }
            }
        }

        synchronized void close() {
            closed = true;
        }
    }
}
