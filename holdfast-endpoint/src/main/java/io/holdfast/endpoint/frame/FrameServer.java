package io.holdfast.endpoint.frame;

import io.grpc.ServerServiceDefinition;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.protocol.frame.Frames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
 * take at once is queued and written by the server thread when the socket drains. A thread that
 * answers many calls at once (a log entry's commands) holds its answers and writes them in one
 * write per connection at the end ({@link FrameWrites}); the server thread handles what one
 * wake-up brings in such a batch too, so that work its handlers defer ({@link FrameWrites#defer})
 * runs once every frame read in it has been handled. Nothing a client
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
 * <p>This class is the port: it listens, accepts, runs the loop and closes. Each connection is a
 * {@link FrameConnection}, each call on it a {@link FrameCall}, each splice a {@link Pipe}.
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
    private final Thread thread;
    private volatile boolean closed;

    // What every connection of the port shares; its connections read them (FrameConnection).
    final Selector selector;
    final ServerServiceDefinition service;
    final UnaryOperator<String> leaderHint;
    final int maxFrame;
    final long maxQueued;
    final InetSocketAddress others;
    final Map<FrameConnection, Boolean> connections = new ConcurrentHashMap<>();
    final LongAdder unparsable = new LongAdder();

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
        for (FrameConnection c : List.copyOf(connections.keySet())) {
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
                // What one wake-up brings is one batch: requests read together are sent on together,
                // and the answers they get at once leave together (FrameWrites).
                FrameWrites.together(this::handleSelected);
            } catch (ClosedSelectorException e) {
                return;
            } catch (IOException | RuntimeException e) {
                // A fault of one step must not stop the port: log it and go on.
                LOG.warn("the frame server's loop failed; it goes on", e);
            }
        }
    }

    private void handleSelected() {
        for (SelectionKey key : selector.selectedKeys()) {
            if (!key.isValid()) {
                continue;
            }
            if (key.isAcceptable()) {
                try {
                    accept();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else if (key.attachment() instanceof Pipe pipe) {
                pipe.ready(key);
            } else {
                FrameConnection c = (FrameConnection) key.attachment();
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
    }

    private void accept() throws IOException {
        SocketChannel channel;
        while ((channel = listener.accept()) != null) {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            FrameConnection c = new FrameConnection(this, channel);
            c.key = channel.register(selector, SelectionKey.OP_READ, c);
            connections.put(c, Boolean.TRUE);
        }
    }
}
