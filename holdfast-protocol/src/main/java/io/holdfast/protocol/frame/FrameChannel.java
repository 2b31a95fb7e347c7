// Ceiling 515 lines, one idea: the client end of frames (a gRPC ManagedChannel: connecting, writing
// calls, reading answers, deadlines). Its call adapter shares the connection's state.
package io.holdfast.protocol.frame;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.holdfast.ErrorCode;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.protocol.GrpcErrors;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gRPC channel to one server that carries its calls over {@link Frames} instead of HTTP/2: the
 * same messages, statuses and trailers, so that code written against gRPC's {@code Channel} (the
 * client's transport, its event streams, generated stubs) works over it unchanged. The server end
 * is {@code io.holdfast.endpoint.frame.FrameServer}. Unary and server-streaming calls only; plaintext only.
 *
 * <p><b>Threads.</b> A call's request is written by the thread that starts it, or, when another
 * thread is writing at that moment, by that thread in one write with its own and any others waiting
 * ({@link FrameWriter}). One reader thread per connection reads answers and calls the calls'
 * listeners, as a gRPC channel with a direct executor does: listeners must not block. While it
 * hands out answers that one read brought, the reader holds the writer's turn, and the requests
 * sent meanwhile (by the callers it wakes) leave in one write before it reads again. Connecting is done by that
 * reader thread too, so starting a call never waits for a connection; calls started meanwhile
 * are written once it is up. Deadlines are checked every {@value #SWEEP_MILLIS} ms by one daemon
 * thread for the whole JVM, instead of a timer per call.
 *
 * <p><b>Failures.</b> When a connection cannot be made or breaks, every call on it ends with {@code
 * UNAVAILABLE} naming the cause, and the next call makes a new connection. A call whose deadline
 * passes ends with {@code DEADLINE_EXCEEDED}, and the server is told to forget it; if nothing at
 * all came from the server since that call was sent, the connection is taken for dead (a peer that
 * vanished without a reset, a black-holed route) and dropped, so the next call makes a new one.
 * That is what gRPC's keep-alive pings found out; here the client's own calls (its session's
 * heartbeats) are the probes. An answer larger than {@code maxInbound} ends its call alone with
 * {@code RESOURCE_EXHAUSTED} naming the limit, as gRPC's {@code maxInboundMessageSize} does: the
 * connection is no outage for its other calls.
 */
public final class FrameChannel extends ManagedChannel {
    private static final Logger LOG = LoggerFactory.getLogger(FrameChannel.class);
    static final long SWEEP_MILLIS = 20;
    private static final int CONNECT_TIMEOUT_MILLIS = 3_000;
    private static final Set<FrameChannel> LIVE = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService SWEEPER =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-frames-deadlines"));

    static {
        SWEEPER.scheduleWithFixedDelay(
                () -> LIVE.forEach(FrameChannel::sweep), SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    private final String address;
    private final String host;
    private final int port;
    private final int maxInbound;
    private final AtomicLong ids = new AtomicLong();
    private final Object lock = new Object();
    private Connection connection; // guarded by lock
    private volatile boolean shutdown;

    /**
     * A channel that connects when its first call starts.
     *
     * @param host the server's host
     * @param port its frame port
     * @param maxInbound the largest answer frame accepted, in bytes
     */
    public FrameChannel(String host, int port, int maxInbound) {
        this.host = host;
        this.port = port;
        this.address = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        this.maxInbound = maxInbound;
        LIVE.add(this);
    }

    @Override
    public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
        return new FrameCall<>(method, options);
    }

    @Override
    public String authority() {
        return address;
    }

    @Override
    public ManagedChannel shutdown() {
        shutdownNow();
        return this;
    }

    /** Ends the connection; its calls end with {@code UNAVAILABLE}. */
    @Override
    public ManagedChannel shutdownNow() {
        shutdown = true;
        LIVE.remove(this);
        Connection c;
        synchronized (lock) {
            c = connection;
            connection = null;
        }
        if (c != null) {
            c.fail(Status.UNAVAILABLE.withDescription("the client is closed"), null);
        }
        return this;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }

    @Override
    public String toString() {
        return "FrameChannel[" + address + "]";
    }

    /** The current connection's writes to its socket, or 0 without one (for tests). */
    long socketWrites() {
        synchronized (lock) {
            return connection == null ? 0 : connection.writer.writes();
        }
    }

    /** The open connection, or a new one (being made by its reader thread). */
    private Connection connection() {
        synchronized (lock) {
            if (connection == null || connection.failed) {
                connection = new Connection();
                connection.reader.start();
            }
            return connection;
        }
    }

    private void sweep() {
        Connection c;
        synchronized (lock) {
            c = connection;
        }
        if (c != null) {
            c.sweep();
        }
    }

    /** One TCP connection, its pending calls and its reader thread. */
    private final class Connection {
        final Map<Long, FrameCall<?, ?>> calls = new ConcurrentHashMap<>();
        final Thread reader = DaemonThreads.thread(this::run, "holdfast-frames " + address);
        final FrameWriter writer = new FrameWriter(
                address,
                e -> fail(Status.UNAVAILABLE.withDescription(address + ": writing failed: " + e.getMessage()), e));
        volatile boolean failed;
        /** Why the connection ended (set before {@code failed}), for calls that come too late to see it. */
        volatile Status failure;
        /** When the last frame came from the server (or the connection was begun). */
        volatile long lastReadNanos = System.nanoTime();

        /** Writes a frame, or keeps it until the connection is up ({@link FrameWriter}). */
        void write(ByteBuffer frame) throws IOException {
            writer.write(frame);
        }

        private void run() {
            Socket s = new Socket();
            try {
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
                if (!writer.open(s)) {
                    return;
                }
                FrameInput buffered = new FrameInput(s.getInputStream());
                DataInputStream in = new DataInputStream(buffered);
                while (!failed) {
                    // The writer's turn is held while a read takes bytes already here (FrameWriter).
                    writer.holdWhile(buffered.buffered() >= 4);
                    int length = in.readInt();
                    writer.holdWhile(buffered.buffered() >= length);
                    if (length < 9) {
                        throw new IOException("the server sent a frame of " + length + " bytes");
                    }
                    byte type = in.readByte();
                    long id = in.readLong();
                    if (length > maxInbound) {
                        in.skipNBytes(length - 9L);
                        lastReadNanos = System.nanoTime();
                        tooLarge(id, length);
                        continue;
                    }
                    byte[] body = new byte[length - 9];
                    in.readFully(body);
                    lastReadNanos = System.nanoTime();
                    deliver(type, id, ByteBuffer.wrap(body));
                }
            } catch (IOException | Frames.FrameException e) {
                String why = e instanceof EOFException ? "the server closed the connection" : e.getMessage();
                fail(Status.UNAVAILABLE.withDescription(address + ": " + why), e);
            } catch (RuntimeException e) {
                LOG.warn("reading from " + address + " failed", e);
                fail(Status.UNAVAILABLE.withDescription(address + ": " + e), e);
            } finally {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }

        private void deliver(byte type, long id, ByteBuffer body) throws Frames.FrameException {
            FrameCall<?, ?> call = calls.get(id);
            switch (type) {
                case Frames.MESSAGE -> {
                    if (call != null) {
                        call.message(body);
                    }
                }
                case Frames.CLOSE -> {
                    Status status = Frames.status(body);
                    Metadata trailers = Frames.trailers(body);
                    if (call != null && calls.remove(id, call)) {
                        call.closed(status, trailers);
                    }
                }
                default -> throw new Frames.FrameException("a frame of unknown type " + type + " from the server");
            }
        }

        /**
         * An answer larger than this client accepts ends its call alone, with {@code
         * RESOURCE_EXHAUSTED} naming the limit ({@link io.holdfast.QuotaExceededException} to the
         * caller); the connection and its other calls go on, and the server forgets the call.
         */
        private void tooLarge(long id, int length) {
            FrameCall<?, ?> call = calls.get(id);
            if (call == null || !calls.remove(id, call)) {
                return;
            }
            try {
                write(Frames.cancel(id));
            } catch (IOException ignored) {
                // the connection is failing: the server forgets the call with it
            }
            Metadata trailers = new Metadata();
            trailers.put(GrpcErrors.ERROR_CODE, ErrorCode.QUOTA_EXCEEDED.name());
            call.closed(
                    Status.RESOURCE_EXHAUSTED.withDescription("an answer of " + length + " bytes from " + address
                            + " is more than this client accepts (" + maxInbound + " bytes)"),
                    trailers);
        }

        /** Ends the connection and every call on it. Idempotent. */
        void fail(Status status, Throwable cause) {
            Status s = cause == null ? status : status.withCause(cause);
            synchronized (this) {
                if (!failed) {
                    failure = s;
                }
                failed = true;
            }
            writer.close();
            synchronized (lock) {
                if (connection == this) {
                    connection = null;
                }
            }
            for (FrameCall<?, ?> call : List.copyOf(calls.values())) {
                if (calls.remove(call.id, call)) {
                    call.closed(s, new Metadata());
                }
            }
        }

        void sweep() {
            List<FrameCall<?, ?>> expired = new ArrayList<>();
            boolean silent = false;
            for (FrameCall<?, ?> call : calls.values()) {
                if (call.deadline != null && call.deadline.isExpired() && calls.remove(call.id, call)) {
                    expired.add(call);
                    silent |= lastReadNanos - call.sentNanos < 0;
                }
            }
            if (expired.isEmpty()) {
                return;
            }
            if (silent) {
                // Dropped before the timed-out calls are answered: a caller that retries at once
                // must get a new connection, not this one failing under its next call.
                fail(
                        Status.UNAVAILABLE.withDescription(address
                                + " sent nothing since a call that has now timed out: the connection is"
                                + " dropped, the next call makes a new one"),
                        null);
            }
            for (FrameCall<?, ?> call : expired) {
                if (!silent) {
                    try {
                        write(Frames.cancel(call.id));
                    } catch (IOException ignored) {
                        // the connection is failing: the server forgets the call with it
                    }
                }
                call.closed(
                        Status.DEADLINE_EXCEEDED.withDescription(address + " did not answer in time"), new Metadata());
            }
        }
    }

    /**
     * One call. Listener methods are called one at a time and in order, nothing after {@code
     * onClose}: on the call's executor when its options name one (a blocking stub's, which runs
     * them on the waiting thread), else on the thread that has the answer.
     */
    private final class FrameCall<Q, A> extends ClientCall<Q, A> {
        final MethodDescriptor<Q, A> method;
        final Deadline deadline;
        private final java.util.concurrent.Executor executor;
        private final java.util.Queue<Runnable> tasks = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final java.util.concurrent.atomic.AtomicBoolean draining =
                new java.util.concurrent.atomic.AtomicBoolean();
        long id;
        /** When the request was handed to the connection. */
        volatile long sentNanos;

        private volatile Connection on;
        private Listener<A> listener;
        /** The call's headers (a trace's {@code traceparent}), sent with its request. */
        private Metadata headers;

        private boolean headersDelivered;
        private boolean ended;

        FrameCall(MethodDescriptor<Q, A> method, CallOptions options) {
            this.method = method;
            this.deadline = options.getDeadline();
            this.executor = options.getExecutor();
        }

        @Override
        public void start(Listener<A> listener, Metadata headers) {
            this.listener = listener;
            this.headers = headers;
        }

        @Override
        public void request(int numMessages) {
            // Answers are delivered as they come.
        }

        @Override
        public void sendMessage(Q message) {
            if (shutdown) {
                closed(Status.UNAVAILABLE.withDescription("the client is closed"), new Metadata());
                return;
            }
            if (deadline != null && deadline.isExpired()) {
                closed(
                        Status.DEADLINE_EXCEEDED.withDescription("the deadline passed before the call was sent"),
                        new Metadata());
                return;
            }
            ByteBuffer frame;
            Connection c = connection();
            id = ids.incrementAndGet();
            try {
                frame = Frames.call(id, method, message, headers);
            } catch (RuntimeException e) {
                closed(
                        Status.INTERNAL
                                .withDescription("cannot encode the request: " + e)
                                .withCause(e),
                        new Metadata());
                return;
            }
            on = c;
            sentNanos = System.nanoTime();
            c.calls.put(id, this);
            try {
                c.write(frame);
            } catch (IOException e) {
                if (c.calls.remove(id, this)) {
                    // A connection that failed before the write (refused, say) tells why, not just "closed".
                    Status why = c.failure;
                    closed(
                            why != null
                                    ? why
                                    : Status.UNAVAILABLE
                                            .withDescription(address + ": " + e.getMessage())
                                            .withCause(e),
                            new Metadata());
                }
                c.fail(Status.UNAVAILABLE.withDescription(address + ": " + e.getMessage()), e);
            }
        }

        @Override
        public void halfClose() {
            // The request went with sendMessage.
        }

        @Override
        public void cancel(String message, Throwable cause) {
            Connection c = on;
            if (c != null && c.calls.remove(id, this)) {
                try {
                    c.write(Frames.cancel(id));
                } catch (IOException ignored) {
                    // the connection is gone: so is the call on the server
                }
            }
            closed(Status.CANCELLED.withDescription(message).withCause(cause), new Metadata());
        }

        /** An answer read from the connection (reader thread). */
        void message(ByteBuffer body) {
            A answer;
            try {
                answer = Frames.parse(body, method.getResponseMarshaller());
            } catch (RuntimeException e) {
                Connection c = on;
                if (c != null) {
                    c.calls.remove(id, this);
                }
                closed(
                        Status.INTERNAL
                                .withDescription("cannot read the answer: " + e)
                                .withCause(e),
                        new Metadata());
                return;
            }
            deliver(() -> {
                if (!headersDelivered) {
                    headersDelivered = true;
                    listener.onHeaders(new Metadata());
                }
                listener.onMessage(answer);
            });
        }

        /** The call's end; only the first counts. */
        void closed(Status status, Metadata trailers) {
            deliver(() -> {
                ended = true;
                listener.onClose(status, trailers);
            });
        }

        /** Runs a listener step after those before it, unless the call has ended. */
        private void deliver(Runnable step) {
            tasks.add(() -> {
                if (!ended && listener != null) {
                    step.run();
                }
            });
            if (executor == null) {
                drain();
            } else {
                executor.execute(this::drain);
            }
        }

        private void drain() {
            while (draining.compareAndSet(false, true)) {
                try {
                    Runnable next;
                    while ((next = tasks.poll()) != null) {
                        next.run();
                    }
                } finally {
                    draining.set(false);
                }
                if (tasks.isEmpty()) {
                    return;
                }
            }
        }
    }
}
