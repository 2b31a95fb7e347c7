package io.holdfast.endpoint.frame;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/**
 * Splices a client's connection to another server, byte for byte in both directions, on the {@link
 * FrameServer}'s thread: how a port that speaks frames also serves clients of another protocol
 * (gRPC over HTTP/2) whose first bytes are not the frames preface.
 *
 * <p>Each direction has a buffer of {@value #BUFFER} bytes: while it is full, the side that fills it
 * is not read, so a slow reader slows its writer instead of growing memory. An end of input on one
 * side is passed on (half-close) once its buffer is written; the pipe ends when both sides have
 * ended, or at the first failure on either, closing both.
 */
final class Pipe {
    static final int BUFFER = 64 * 1024;

    private final Side client;
    private final Side upstream;
    private final Consumer<String> ended;
    private boolean closed;

    /**
     * Starts splicing {@code clientChannel} (registered as {@code clientKey}, whose attachment
     * routes its readiness to {@link #ready}) to {@code target}.
     *
     * @param first bytes already read from the client, sent on first
     * @param ended called once when the pipe ends, with why; it must {@link #close} the pipe
     */
    Pipe(
            SocketChannel clientChannel,
            SelectionKey clientKey,
            ByteBuffer first,
            InetSocketAddress target,
            Selector selector,
            Consumer<String> ended)
            throws IOException {
        this.ended = ended;
        SocketChannel up = SocketChannel.open();
        try {
            up.configureBlocking(false);
            up.setOption(StandardSocketOptions.TCP_NODELAY, true);
            client = new Side(clientChannel, BUFFER);
            upstream = new Side(up, Math.max(BUFFER, first.remaining()));
            client.peer = upstream;
            upstream.peer = client;
            client.key = clientKey;
            upstream.out.put(first);
            upstream.connecting = !up.connect(target);
            upstream.key = up.register(selector, 0, this);
        } catch (IOException | RuntimeException e) {
            up.close();
            throw e;
        }
        update();
    }

    /** A side is ready: connect, write, read (server thread). */
    void ready(SelectionKey key) {
        Side side = key == client.key ? client : upstream;
        try {
            if (key.isConnectable()) {
                side.channel.finishConnect();
                side.connecting = false;
                side.flush();
            }
            if (key.isWritable()) {
                side.flush();
            }
            if (key.isReadable()) {
                side.read();
            }
            if (client.inputEnded && upstream.inputEnded && client.drained() && upstream.drained()) {
                ended.accept("both sides ended");
                return;
            }
            update();
        } catch (IOException | RuntimeException e) {
            ended.accept((side == client ? "the client: " : "the spliced server: ") + e);
        }
    }

    /** Closes both sides. Idempotent. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Side side : new Side[] {client, upstream}) {
            if (side.key != null) {
                side.key.cancel();
            }
            try {
                side.channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private void update() {
        client.interest();
        upstream.interest();
    }

    /** One end of the pipe, and the bytes waiting to be written to it. */
    private static final class Side {
        final SocketChannel channel;
        final ByteBuffer out; // bytes for this side, in fill mode
        SelectionKey key;
        Side peer;
        boolean connecting;
        boolean inputEnded;
        boolean outputShut;

        Side(SocketChannel channel, int buffer) {
            this.channel = channel;
            this.out = ByteBuffer.allocate(buffer);
        }

        /** Reads what this side sent into the buffer toward its peer, and passes it on. */
        void read() throws IOException {
            if (peer.out.hasRemaining() && channel.read(peer.out) < 0) {
                inputEnded = true;
            }
            peer.flush();
        }

        /** Writes what waits for this side; passes on the peer's end of input once it is all written. */
        void flush() throws IOException {
            if (connecting) {
                return;
            }
            out.flip();
            channel.write(out);
            out.compact();
            if (drained() && peer.inputEnded && !outputShut) {
                outputShut = true;
                channel.shutdownOutput();
            }
        }

        boolean drained() {
            return out.position() == 0;
        }

        void interest() {
            int ops;
            if (connecting) {
                ops = SelectionKey.OP_CONNECT;
            } else {
                ops = 0;
                if (!inputEnded && peer.out.hasRemaining()) {
                    ops |= SelectionKey.OP_READ;
                }
                if (!drained()) {
                    ops |= SelectionKey.OP_WRITE;
                }
            }
            key.interestOps(ops);
        }
    }
}
