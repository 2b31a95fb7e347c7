package io.holdfast.client.internal;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.holdfast.client.internal.Members.Member;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * After a move, the started event streams of one transport re-open at the new member as one call
 * that carries all their sessions ({@code EventsRequest.session_ids}), not one call each: the
 * streams that wait for the same gate ({@link HeartbeatsFirst}) are opened together when it opens.
 *
 * <p><b>Why.</b> A connection of 1,000 sessions that moved opened 1,000 HTTP/2 streams at the new
 * member, whose decoding, under TLS on a JVM whose paths were cold, held the heartbeats of every
 * client that had moved there (docs/benchmarks.md, 2026-12-03); holding the opens back until a
 * heartbeat was answered moved that cost behind the heartbeats, and one call removes most of it.
 *
 * <p><b>Guarantees.</b> Each session of a shared call is still its own {@link EventStream}: its own
 * {@code started} (which it reports as a gap, as any re-opened stream), its events, and its end: a
 * shared call that fails or completes ends every stream on it, and each re-opens by itself after
 * its backoff, or together with the others after the next move. A stream that leaves a shared call
 * (closed, or moved) lets go of it; the call is cancelled when the last one has. A server that
 * answers a shared call with {@code INVALID_ARGUMENT} (a build without {@code session_ids}) makes
 * its streams re-open one call each, and this transport never shares a call again.
 *
 * <p><b>Does not</b> share the first call of a stream (its subscriber waits for it), nor a
 * re-open after a failure without a move; and a stream closed while its session stays open at the
 * server (its close not answered by this member) stays on the member's side of the call, receiving
 * nothing, until the call ends.
 */
final class SharedOpens {
    /** The most sessions on one shared call (the server takes up to 10,000). */
    static final int MAX_SESSIONS = 5_000;

    private final Members members;
    private final Supplier<CompletableFuture<Void>> gate;
    private final Executor executor;
    /** The streams waiting for each gate not yet open; guarded by itself. */
    private final Map<CompletableFuture<Void>, List<EventStream>> waiting = new IdentityHashMap<>();
    /** Whether a member refused a shared call: a build that takes one session per stream. */
    private volatile boolean refused;
    /** How many moves are handing their streams over now ({@link #moving}); guarded by {@link #waiting}. */
    private int moving;
    /** The gates that opened while a move handed its streams over; guarded by {@link #waiting}. */
    private final List<CompletableFuture<Void>> deferred = new ArrayList<>();

    /**
     * @param gate the current move's gate ({@link HeartbeatsFirst#gate})
     * @param executor where the streams waiting for a gate are opened once it opens (not the thread
     *     that opened it, which may hold a stream's lock)
     */
    SharedOpens(Members members, Supplier<CompletableFuture<Void>> gate, Executor executor) {
        this.members = members;
        this.gate = gate;
        this.executor = executor;
    }

    /** The gate of the latest move: done unless a move's heartbeat is still unanswered. */
    CompletableFuture<Void> gate() {
        return gate.get();
    }

    /** {@code stream} re-opens when {@code g} opens, on one call with the others that wait for it. */
    void join(CompletableFuture<Void> g, EventStream stream) {
        boolean first;
        synchronized (waiting) {
            List<EventStream> streams = waiting.computeIfAbsent(g, k -> new ArrayList<>());
            first = streams.isEmpty();
            streams.add(stream);
        }
        if (first) {
            g.whenComplete((v, e) -> {
                try {
                    executor.execute(() -> opened(g));
                } catch (RejectedExecutionException closed) {
                    // the transport is closed: nothing more opens
                }
            });
        }
    }

    /**
     * Runs {@code handOver}, which moves the transport's streams (each joining the move's gate), and
     * opens the gates that opened meanwhile only after it: a fast answer to the move's heartbeat
     * must not open a gate that only some of the streams have joined.
     */
    void moving(Runnable handOver) {
        synchronized (waiting) {
            moving++;
        }
        try {
            handOver.run();
        } finally {
            List<CompletableFuture<Void>> opened;
            synchronized (waiting) {
                moving--;
                opened = moving == 0 ? new ArrayList<>(deferred) : List.of();
                if (moving == 0) {
                    deferred.clear();
                }
            }
            for (CompletableFuture<Void> g : opened) {
                try {
                    executor.execute(() -> opened(g));
                } catch (RejectedExecutionException closed) {
                    // the transport is closed: nothing more opens
                }
            }
        }
    }

    /** {@code g} opened: its streams re-open, together, or wait for a newer gate. */
    private void opened(CompletableFuture<Void> g) {
        List<EventStream> streams;
        synchronized (waiting) {
            if (moving > 0) {
                deferred.add(g);
                return;
            }
            streams = waiting.remove(g);
        }
        if (streams == null || streams.isEmpty()) {
            return;
        }
        CompletableFuture<Void> now = gate.get();
        if (!now.isDone()) {
            for (EventStream s : streams) {
                join(now, s); // the home moved again meanwhile
            }
            return;
        }
        if (refused || streams.size() < 2 || members.isClosed()) {
            streams.forEach(EventStream::openAlone);
            return;
        }
        Member m = members.leader();
        for (int from = 0; from < streams.size(); from += MAX_SESSIONS) {
            open(m, streams.subList(from, Math.min(streams.size(), from + MAX_SESSIONS)));
        }
    }

    /** Opens one call to {@code m} for those of {@code streams} that still wait. */
    private void open(Member m, List<EventStream> streams) {
        ClientCall<EventsRequest, EventMessage> call =
                m.channel.newCall(HoldfastGrpc.getEventsMethod(), CallOptions.DEFAULT);
        Shared shared = new Shared(call);
        Map<String, EventStream.Observer> routes = new HashMap<>();
        for (EventStream s : streams) {
            EventStream.Observer o = s.attach(shared.share(), m);
            if (o != null) {
                routes.put(s.sessionId(), o);
            } else {
                shared.unused();
            }
        }
        if (routes.isEmpty()) {
            return;
        }
        ClientCalls.asyncServerStreamingCall(
                call,
                EventsRequest.newBuilder().addAllSessionIds(routes.keySet()).build(),
                new Router(routes));
    }

    /** One shared call, cancelled once none of its streams is left on it. */
    private static final class Shared {
        private final ClientCall<EventsRequest, EventMessage> call;
        private int on; // guarded by this

        Shared(ClientCall<EventsRequest, EventMessage> call) {
            this.call = call;
        }

        synchronized EventStream.Line share() {
            on++;
            boolean[] left = {false};
            return why -> {
                synchronized (Shared.this) {
                    if (left[0]) {
                        return;
                    }
                    left[0] = true;
                }
                leave(why);
            };
        }

        /** A share handed out went unused (its stream no longer waited). */
        void unused() {
            synchronized (this) {
                on--;
            }
        }

        private void leave(String why) {
            boolean last;
            synchronized (this) {
                last = --on == 0;
            }
            if (last) {
                call.cancel(why, null);
            }
        }
    }

    /** Hands each message of a shared call to its session's stream, and its end to all of them. */
    private final class Router implements StreamObserver<EventMessage> {
        private final Map<String, EventStream.Observer> routes;

        Router(Map<String, EventStream.Observer> routes) {
            this.routes = routes;
        }

        @Override
        public void onNext(EventMessage message) {
            EventStream.Observer o = routes.get(message.getSessionId());
            if (o != null) {
                o.onNext(message);
            }
        }

        @Override
        public void onError(Throwable t) {
            if (Status.fromThrowable(t).getCode() == Status.Code.INVALID_ARGUMENT) {
                refused = true; // a build without shared streams: one call each from now on
            }
            for (EventStream.Observer o : routes.values()) {
                o.onError(t);
            }
        }

        @Override
        public void onCompleted() {
            for (EventStream.Observer o : routes.values()) {
                o.onCompleted();
            }
        }
    }
}
