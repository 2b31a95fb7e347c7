package io.holdfast.endpoint.frame;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.frame.Frames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's connection to a {@link FrameServer}: its frames in, its answers out, its calls ({@link
 * FrameCall}). The server's thread reads it, handles each whole frame (a call starts, a cancel ends
 * one) and writes what the socket did not take at once; any thread may send an answer, which goes
 * straight to the socket when nothing is queued. A connection whose first bytes are not the frames
 * preface is handed to a {@link Pipe} when the server has somewhere to splice it, else closed.
 *
 * <p>Guarantees: a connection that breaks the format, sends a frame over the server's limit, or
 * leaves more answers unread than its limit is closed, and every call it has in flight is
 * cancelled; closing is idempotent, and never runs on a thread that holds the connection's lock.
 * Logged under {@link FrameServer}'s name, as the port's own.
 */
final class FrameConnection {
    private static final Logger LOG = LoggerFactory.getLogger(FrameServer.class);

    private final FrameServer server;
    private final SocketChannel channel;
    final Attributes attributes;
    /** The calls in flight, by the client's call number. */
    final Map<Long, FrameCall<?, ?>> calls = new ConcurrentHashMap<>();
    /** Set by the server once the channel is registered with its selector. */
    SelectionKey key;

    private ByteBuffer in = ByteBuffer.allocate(16 * 1024);
    private boolean prefaceRead;
    Pipe pipe; // set when the connection is spliced to the server's others
    // Guarded by this.
    private final ArrayDeque<ByteBuffer> queued = new ArrayDeque<>();
    private long queuedBytes;
    private boolean ended;
    /** The batch holding frames here, to be written at its end; null when none. */
    private FrameWrites heldBy;

    FrameConnection(FrameServer server, SocketChannel channel) throws IOException {
        this.server = server;
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
                    if (server.others == null) {
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
        if (length < 9 || length > server.maxFrame) {
            throw new Frames.FrameException("a frame of " + length + " bytes (the limit is " + server.maxFrame + ")");
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

    /** Hands the connection, and the bytes read so far, to a {@link Pipe} to the server's {@code others}. */
    private void splice() throws Frames.FrameException {
        try {
            pipe = new Pipe(channel, key, in, server.others, server.selector, this::close);
        } catch (IOException e) {
            throw new Frames.FrameException(
                    "cannot reach " + server.others + " for a connection that is not frames: " + e);
        }
    }

    private void start(long id, ByteBuffer body, Metadata headers) throws Frames.FrameException {
        String name = Frames.methodName(body);
        ServerMethodDefinition<?, ?> method = server.service.getMethod(name);
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
            server.unparsable.increment();
            send(Frames.close(
                    id,
                    Status.INVALID_ARGUMENT.withDescription(
                            "the request is not a " + descriptor.getFullMethodName() + " message: " + e.getMessage()),
                    null));
            return;
        }
        FrameCall<Q, A> call = new FrameCall<>(this, id, descriptor, server.leaderHint);
        calls.put(id, call);
        try {
            ServerCall.Listener<Q> listener = method.getServerCallHandler().startCall(call, headers);
            call.listener = listener;
            listener.onMessage(request);
            listener.onHalfClose();
            listener.onReady();
        } catch (RuntimeException e) {
            // a pool that refused the call as the server shuts down is UNAVAILABLE (GrpcErrors), not a bug
            StatusRuntimeException answer = GrpcErrors.toStatus(e);
            if (answer.getStatus().getCode() == Status.Code.INTERNAL) {
                LOG.warn("a call on the frame port failed unexpectedly; answered INTERNAL", e);
            }
            call.close(answer.getStatus(), answer.getTrailers() == null ? new Metadata() : answer.getTrailers());
        }
    }

    /**
     * Writes a frame without blocking: straight to the socket when nothing is queued, else (or
     * for what the socket did not take) queued for the server thread. Inside {@link
     * FrameWrites#together} the frame is held instead, and written with the batch's others at its
     * end. Any thread.
     */
    synchronized void send(ByteBuffer frame) {
        if (ended) {
            return;
        }
        FrameWrites batch = FrameWrites.current();
        try {
            if (queued.isEmpty() && batch == null) {
                channel.write(frame);
                if (!frame.hasRemaining()) {
                    return;
                }
            }
            queued.add(frame);
            queuedBytes += frame.remaining();
            if (queuedBytes > server.maxQueued) {
                closeLater("more than " + server.maxQueued + " bytes of answers left unread");
                return;
            }
            if (batch != null) {
                if (heldBy != batch) {
                    heldBy = batch;
                    batch.hold(this);
                }
                return;
            }
            key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            server.selector.wakeup();
        } catch (IOException | java.nio.channels.CancelledKeyException e) {
            closeLater("writing failed: " + e.getMessage());
        }
    }

    /**
     * Writes what a batch held here (its thread, at the batch's end), with whatever else is
     * queued; what the socket does not take is left to the server thread.
     */
    synchronized void writeHeld(FrameWrites batch) {
        if (heldBy == batch) {
            heldBy = null;
        }
        if (ended) {
            return;
        }
        try {
            if (!writeQueued()) {
                key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                server.selector.wakeup();
            }
        } catch (IOException | java.nio.channels.CancelledKeyException e) {
            closeLater("writing failed: " + e.getMessage());
        }
    }

    /** Writes queued frames (server thread, when the socket can take more). */
    synchronized void drain() {
        try {
            if (writeQueued()) {
                key.interestOps(SelectionKey.OP_READ);
            }
        } catch (IOException e) {
            closeLater("writing failed: " + e.getMessage());
        }
    }

    /** Writes as much of the queue as the socket takes, in gathering writes; true if all of it. */
    private boolean writeQueued() throws IOException {
        while (!queued.isEmpty()) {
            long written = channel.write(queued.toArray(new ByteBuffer[0]));
            queuedBytes -= written;
            while (!queued.isEmpty() && !queued.peek().hasRemaining()) {
                queued.poll();
            }
            if (written == 0) {
                return queued.isEmpty();
            }
        }
        return true;
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
        if (server.connections.remove(this) == null) {
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
