// Ceiling 630 lines, one idea: the server end of frames (accepting, reading frames, starting calls,
// writing answers without blocking). Its call adapter (FrameCall) shares the connection's state;
// the splice to other protocols is already its own file (Pipe).
package io.holdfast.endpoint.frame;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.frame.Frames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a gRPC service's unary and server-streaming methods over {@link Frames} on one TCP port:
 * the same handlers, interceptors, messages, statuses and trailers as over HTTP/2, without HTTP/2.
 *
 * <p><b>Guarantees.</b> One thread ({@code holdfast-frames}) accepts connections, reads frames and
 * starts calls; the handlers run on it and must not block (as {@link io.holdfast.model.LockService}
 * requires of its implementations). Answers are written by whichever thread produces them (the Raft
 * state machine's, for a write), straight to the socket without blocking: what the socket does not
 * take at once is queued and written by the server thread when the socket drains. Nothing a client
 * sends stops the server: a connection that breaks the format, sends a frame larger than {@code
 * maxFrame}, or leaves more answers unread than its limit is closed, and
 * its calls are cancelled (an event stream's subscription is dropped, as when a gRPC client
 * cancels).
 *
 * <p><b>One port, two protocols.</b> Given a server to splice to ({@code others}), a connection
 * whose first bytes are not the frames preface is spliced to it byte for byte ({@link Pipe}) on
 * the same thread: a Holdfast node's client port answers frames itself and passes gRPC (HTTP/2)
 * clients, such as grpcurl or a client with {@code transport=grpc}, to its gRPC server on loopback.
 * They then see that server exactly, one loopback hop further away. Without one, such a
 * connection is closed.
 *
 * <p><b>Not guaranteed.</b> No TLS and no credentials: a node with either serves clients over gRPC
 * only. No flow control beyond the socket's.
 *
 * <p>A failure story: a client process is stopped (SIGSTOP) while subscribed to its session's
 * events. Its socket buffer fills; further events queue here until the limit, then the connection
 * is closed and the subscription dropped. When the client wakes, it finds the connection gone,
 * reconnects and re-subscribes, and is told of a gap, so it asks for the outcomes it waits for.
 */
public final class FrameServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FrameServer.class);

    /** Answers queued for one connection beyond what its socket takes, before it is closed. */
    public static final long MAX_QUEUED_BYTES = 32 * 1024 * 1024;

    private final ServerSocketChannel listener;
    private final Selector selector;
    private final ServerServiceDefinition service;
    private final UnaryOperator<String> leaderHint;
    private final int maxFrame;
    private final long maxQueued;
    private final InetSocketAddress others;
    private final Thread thread;
    private final Map<Connection, Boolean> connections = new ConcurrentHashMap<>();
    private final LongAdder unparsable = new LongAdder();
    private volatile boolean closed;

    private FrameServer(
            ServerSocketChannel listener,
            Selector selector,
            ServerServiceDefinition service,
            UnaryOperator<String> leaderHint,
            int maxFrame,
            long maxQueued,
            InetSocketAddress others) {
        this.listener = listener;
        this.selector = selector;
        this.service = service;
        this.leaderHint = leaderHint;
        this.maxFrame = maxFrame;
        this.maxQueued = maxQueued;
        this.others = others;
        this.thread = DaemonThreads.thread(this::run, "holdfast-frames");
    }

    /**
     * Starts serving.
     *
     * @param host the address to listen on
     * @param port the port, or 0 for any free port
     * @param service the service whose methods are served (with its interceptors)
     * @param leaderHint rewrites the {@code holdfast-leader} trailer of failed calls (a member's
     *     gRPC address) into the address clients of this transport reach that member at; null
     *     drops the trailer
     * @param maxFrame the largest request frame accepted, in bytes
     * @throws UncheckedIOException naming the address if the server cannot listen there (its cause
     *     the {@link BindException} when the port is taken)
     */
    public static FrameServer start(
            String host, int port, ServerServiceDefinition service, UnaryOperator<String> leaderHint, int maxFrame) {
        return start(host, port, service, leaderHint, maxFrame, MAX_QUEUED_BYTES, null);
    }

    /**
     * Starts serving as {@link #start(String, int, ServerServiceDefinition, UnaryOperator, int)},
     * closing a connection that leaves more than {@code maxQueued} bytes of answers unread, and
     * splicing connections that do not start with the frames preface to {@code others} (null:
     * closing them).
     */
    public static FrameServer start(
            String host,
            int port,
            ServerServiceDefinition service,
            UnaryOperator<String> leaderHint,
            int maxFrame,
            long maxQueued,
            InetSocketAddress others) {
        Objects.requireNonNull(service, "service");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
        }
        ServerSocketChannel listener = null;
        try {
            listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(new InetSocketAddress(host, port), 128);
            listener.configureBlocking(false);
            Selector selector = Selector.open();
            listener.register(selector, SelectionKey.OP_ACCEPT);
            FrameServer server = new FrameServer(listener, selector, service, leaderHint, maxFrame, maxQueued, others);
            server.thread.start();
            return server;
        } catch (IOException e) {
            if (listener != null) {
                try {
                    listener.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            String where = host + ":" + port;
            if (e instanceof BindException) {
                throw new UncheckedIOException("cannot listen on " + where + ": port " + port + " is in use", e);
            }
            throw new UncheckedIOException("cannot listen on " + where + ": " + e.getMessage(), e);
        }
    }

    /** The port the server listens on. */
    public int port() {
        return listener.socket().getLocalPort();
    }

    /** Calls refused because their body was not the method's message (answered {@code INVALID_ARGUMENT}). */
    public long unparsableRequests() {
        return unparsable.sum();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** The connections open now (for tests). */
    public int connectionCount() {
        return connections.size();
    }

    /** Closes the port and every connection; calls in flight are cancelled. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        selector.wakeup();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Connection c : List.copyOf(connections.keySet())) {
            c.close("the server is shutting down");
        }
        try {
            listener.close();
            selector.close();
        } catch (IOException e) {
            LOG.debug("closing the frame port", e);
        }
    }

    @Override
    public String toString() {
        return "FrameServer[" + listener.socket().getLocalSocketAddress() + (closed ? ", closed]" : "]");
    }

    // ------------------------------------------------------------------------------ the loop

    private void run() {
        while (!closed) {
            try {
                selector.select(1_000);
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        accept();
                    } else if (key.attachment() instanceof Pipe pipe) {
                        pipe.ready(key);
                    } else {
                        Connection c = (Connection) key.attachment();
                        if (c.pipe != null) {
                            c.pipe.ready(key);
                            continue;
                        }
                        if (key.isWritable()) {
                            c.drain();
                        }
                        if (key.isValid() && key.isReadable()) {
                            c.read();
                        }
                    }
                }
                selector.selectedKeys().clear();
            } catch (ClosedSelectorException e) {
                return;
            } catch (IOException | RuntimeException e) {
                // A fault of one step must not stop the port: log it and go on.
                LOG.warn("the frame server's loop failed; it goes on", e);
            }
        }
    }

    private void accept() throws IOException {
        SocketChannel channel;
        while ((channel = listener.accept()) != null) {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Connection c = new Connection(channel);
            c.key = channel.register(selector, SelectionKey.OP_READ, c);
            connections.put(c, Boolean.TRUE);
        }
    }

    /** One client's connection: its frames in, its answers out, its calls. */
    private final class Connection {
        private final SocketChannel channel;
        private final Attributes attributes;
        private final Map<Long, FrameCall<?, ?>> calls = new ConcurrentHashMap<>();
        private SelectionKey key;
        private ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        private boolean prefaceRead;
        private Pipe pipe; // set when the connection is spliced to others
        // Guarded by this.
        private final ArrayDeque<ByteBuffer> queued = new ArrayDeque<>();
        private long queuedBytes;
        private boolean ended;

        Connection(SocketChannel channel) throws IOException {
            this.channel = channel;
            this.attributes = Attributes.newBuilder()
                    .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, channel.getRemoteAddress())
                    .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, channel.getLocalAddress())
                    .build();
        }

        /** Reads what the socket has and handles every whole frame in it (server thread). */
        void read() {
            try {
                int n = channel.read(in);
                if (n < 0) {
                    close("the client closed the connection");
                    return;
                }
                in.flip();
                while (frame()) {
                    // handled one; look for the next
                }
                in.compact();
            } catch (IOException e) {
                close("reading failed: " + e.getMessage());
            } catch (Frames.FrameException e) {
                close("the client broke the frame format: " + e.getMessage());
            }
        }

        /** Handles the next whole frame in {@code in}, or returns false if there is none yet. */
        private boolean frame() throws Frames.FrameException {
            if (!prefaceRead) {
                int n = Math.min(in.remaining(), Frames.PREFACE.length);
                for (int i = 0; i < n; i++) {
                    if (in.get(in.position() + i) != Frames.PREFACE[i]) {
                        if (others == null) {
                            throw new Frames.FrameException("no HFRAMES1 preface");
                        }
                        splice();
                        return false;
                    }
                }
                if (n < Frames.PREFACE.length) {
                    return false;
                }
                in.position(in.position() + n);
                prefaceRead = true;
            }
            if (in.remaining() < 4) {
                return false;
            }
            int length = in.getInt(in.position());
            if (length < 9 || length > maxFrame) {
                throw new Frames.FrameException("a frame of " + length + " bytes (the limit is " + maxFrame + ")");
            }
            if (in.remaining() < 4 + length) {
                if (in.capacity() < 4 + length) {
                    ByteBuffer bigger = ByteBuffer.allocate(Math.max(4 + length, 2 * in.capacity()));
                    bigger.put(in);
                    bigger.flip();
                    in = bigger;
                }
                return false;
            }
            in.getInt();
            byte type = in.get();
            long id = in.getLong();
            ByteBuffer body = ByteBuffer.wrap(Arrays.copyOfRange(
                    in.array(), in.arrayOffset() + in.position(), in.arrayOffset() + in.position() + length - 9));
            in.position(in.position() + length - 9);
            switch (type) {
                case Frames.CALL -> start(id, body, new Metadata());
                case Frames.CALL_WITH_HEADERS -> start(id, body, Frames.headers(body));
                case Frames.CANCEL -> {
                    FrameCall<?, ?> call = calls.remove(id);
                    if (call != null) {
                        call.cancelled();
                    }
                }
                default -> throw new Frames.FrameException("a frame of unknown type " + type);
            }
            return true;
        }

        /** Hands the connection, and the bytes read so far, to a {@link Pipe} to {@code others}. */
        private void splice() throws Frames.FrameException {
            try {
                pipe = new Pipe(channel, key, in, others, selector, this::close);
            } catch (IOException e) {
                throw new Frames.FrameException(
                        "cannot reach " + others + " for a connection that is not frames: " + e);
            }
        }

        private void start(long id, ByteBuffer body, Metadata headers) throws Frames.FrameException {
            String name = Frames.methodName(body);
            ServerMethodDefinition<?, ?> method = service.getMethod(name);
            if (method == null) {
                send(Frames.close(id, Status.UNIMPLEMENTED.withDescription("no method " + name), null));
                return;
            }
            if (calls.containsKey(id)) {
                throw new Frames.FrameException("call number " + id + " is in use");
            }
            startCall(id, method, body, headers);
        }

        private <Q, A> void startCall(long id, ServerMethodDefinition<Q, A> method, ByteBuffer body, Metadata headers) {
            MethodDescriptor<Q, A> descriptor = method.getMethodDescriptor();
            if (descriptor.getType() != MethodDescriptor.MethodType.UNARY
                    && descriptor.getType() != MethodDescriptor.MethodType.SERVER_STREAMING) {
                send(Frames.close(
                        id,
                        Status.UNIMPLEMENTED.withDescription("frames carry unary and server-streaming" + " calls, not "
                                + descriptor.getFullMethodName()),
                        null));
                return;
            }
            Q request;
            try {
                request = Frames.parse(body, descriptor.getRequestMarshaller());
            } catch (RuntimeException e) {
                unparsable.increment();
                send(Frames.close(
                        id,
                        Status.INVALID_ARGUMENT.withDescription("the request is not a " + descriptor.getFullMethodName()
                                + " message: " + e.getMessage()),
                        null));
                return;
            }
            FrameCall<Q, A> call = new FrameCall<>(this, id, descriptor);
            calls.put(id, call);
            try {
                ServerCall.Listener<Q> listener = method.getServerCallHandler().startCall(call, headers);
                call.listener = listener;
                listener.onMessage(request);
                listener.onHalfClose();
                listener.onReady();
            } catch (RuntimeException e) {
                LOG.warn("a call on the frame port failed unexpectedly; answered INTERNAL", e);
                call.close(Status.INTERNAL.withDescription("the server failed: " + e), new Metadata());
            }
        }

        /**
         * Writes a frame without blocking: straight to the socket when nothing is queued, else (or
         * for what the socket did not take) queued for the server thread. Any thread.
         */
        synchronized void send(ByteBuffer frame) {
            if (ended) {
                return;
            }
            try {
                if (queued.isEmpty()) {
                    channel.write(frame);
                    if (!frame.hasRemaining()) {
                        return;
                    }
                }
                queued.add(frame);
                queuedBytes += frame.remaining();
                if (queuedBytes > maxQueued) {
                    closeLater("more than " + maxQueued + " bytes of answers left unread");
                    return;
                }
                key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                selector.wakeup();
            } catch (IOException | java.nio.channels.CancelledKeyException e) {
                closeLater("writing failed: " + e.getMessage());
            }
        }

        /** Writes queued frames (server thread, when the socket can take more). */
        synchronized void drain() {
            try {
                while (!queued.isEmpty()) {
                    ByteBuffer head = queued.peek();
                    int before = head.remaining();
                    channel.write(head);
                    queuedBytes -= before - head.remaining();
                    if (head.hasRemaining()) {
                        return;
                    }
                    queued.poll();
                }
                key.interestOps(SelectionKey.OP_READ);
            } catch (IOException e) {
                closeLater("writing failed: " + e.getMessage());
            }
        }

        /** Closes from a thread that may hold this connection's lock: on another thread. */
        private void closeLater(String why) {
            ended = true;
            DaemonThreads.thread(() -> close(why), "holdfast-frames-close").start();
        }

        /** Ends the connection and cancels its calls. Idempotent. */
        void close(String why) {
            synchronized (this) {
                ended = true;
                queued.clear();
            }
            if (connections.remove(this) == null) {
                return;
            }
            LOG.debug("frame connection " + attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR) + " closed: " + why);
            key.cancel();
            if (pipe != null) {
                pipe.close();
            }
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing a frame connection", e);
            }
            List<FrameCall<?, ?>> open = new ArrayList<>(calls.values());
            calls.clear();
            for (FrameCall<?, ?> call : open) {
                call.cancelled();
            }
        }
    }

    /** One call: the handler's view of it. */
    private final class FrameCall<Q, A> extends ServerCall<Q, A> {
        private final Connection connection;
        private final long id;
        private final MethodDescriptor<Q, A> method;
        private volatile ServerCall.Listener<Q> listener;
        private volatile boolean cancelled;
        private volatile boolean closed;

        FrameCall(Connection connection, long id, MethodDescriptor<Q, A> method) {
            this.connection = connection;
            this.id = id;
            this.method = method;
        }

        @Override
        public void request(int numMessages) {
            // Requests are delivered as they come: one per call.
        }

        @Override
        public void sendHeaders(Metadata headers) {
            // Frames carry no headers.
        }

        @Override
        public void sendMessage(A message) {
            if (closed || cancelled) {
                throw Status.CANCELLED.withDescription("the call has ended").asRuntimeException();
            }
            connection.send(Frames.message(id, method, message));
        }

        @Override
        public void close(Status status, Metadata trailers) {
            if (closed) {
                return;
            }
            closed = true;
            if (connection.calls.remove(id, this)) {
                connection.send(Frames.close(id, status, hinted(trailers)));
            }
            ServerCall.Listener<Q> l = listener;
            if (l != null && !cancelled) {
                try {
                    l.onComplete();
                } catch (RuntimeException e) {
                    LOG.debug("a call's completion failed", e);
                }
            }
        }

        /** The client cancelled, or its connection ended. */
        void cancelled() {
            if (closed || cancelled) {
                return;
            }
            cancelled = true;
            ServerCall.Listener<Q> l = listener;
            if (l != null) {
                try {
                    l.onCancel();
                } catch (RuntimeException e) {
                    LOG.warn("a call's cancellation failed", e);
                }
            }
        }

        private Metadata hinted(Metadata trailers) {
            if (trailers == null) {
                return null;
            }
            String leader = trailers.get(GrpcErrors.LEADER);
            if (leader != null) {
                trailers.removeAll(GrpcErrors.LEADER);
                String rewritten = leaderHint == null ? null : leaderHint.apply(leader);
                if (rewritten != null) {
                    trailers.put(GrpcErrors.LEADER, rewritten);
                }
            }
            return trailers;
        }

        @Override
        public boolean isReady() {
            return !closed && !cancelled;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public Attributes getAttributes() {
            return connection.attributes;
        }

        @Override
        public String getAuthority() {
            return null;
        }

        @Override
        public MethodDescriptor<Q, A> getMethodDescriptor() {
            return method;
        }
    }
}
