package io.holdfast.it;

import io.holdfast.protocol.frame.Frames;
import io.holdfast.protocol.v1.HoldfastGrpc;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of one node's client port that reads the framed transport
 * ({@link Frames}) and can hold up a client's session events while everything else flows: once
 * {@linkplain #holdEvents holding}, the frames the node sends on an {@code Events} call are kept
 * here, in order, until {@link #releaseEvents}, while the answers to the client's other calls
 * (heartbeats, acquires, reads) pass at once. So the client's event stream stays open and looks
 * healthy (no gap), but its events reach it late: what a slow stream, or HTTP/2 flow control on
 * the stream alone, does to a client.
 *
 * <p>Frames only: a client that speaks gRPC (HTTP/2) through it breaks the parse and is cut off.
 */
final class EventHoldProxy implements AutoCloseable {
    private static final String EVENTS = HoldfastGrpc.getEventsMethod().getFullMethodName();

    private final ServerSocket server;
    private final int upstreamPort;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private final AtomicInteger held = new AtomicInteger();
    private volatile boolean holding;

    EventHoldProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    /** From now on the node's event frames wait here. */
    void holdEvents() {
        holding = true;
    }

    /** How many event frames were held so far (those released included). */
    int heldEvents() {
        return held.get();
    }

    /** Passes every held event frame on, in order, and holds no more. */
    void releaseEvents() throws IOException {
        holding = false;
        for (Link link : links) {
            link.flush();
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket node = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                client.setTcpNoDelay(true);
                node.setTcpNoDelay(true);
                Link link = new Link(client, node);
                links.add(link);
                daemon(link::clientToNode);
                daemon(link::nodeToClient);
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void daemon(Runnable r) {
        Thread t = new Thread(r, "event-hold-proxy");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Link link : links) {
            link.close();
        }
    }

    /** One client connection and its own connection to the node. */
    private final class Link {
        private final Socket client;
        private final Socket node;
        /** The numbers of the client's {@code Events} calls on this connection. */
        private final Set<Long> eventCalls = ConcurrentHashMap.newKeySet();
        /** Guarded by this, which also orders the writes to the client. */
        private final List<byte[]> waiting = new ArrayList<>();

        Link(Socket client, Socket node) {
            this.client = client;
            this.node = node;
        }

        /** Client to node: the preface, then frame by frame, noting which calls are event streams. */
        void clientToNode() {
            try {
                DataInputStream in = new DataInputStream(client.getInputStream());
                OutputStream out = node.getOutputStream();
                byte[] preface = in.readNBytes(Frames.PREFACE.length);
                out.write(preface);
                while (true) {
                    byte[] frame = readFrame(in);
                    ByteBuffer b = ByteBuffer.wrap(frame, 4, frame.length - 4);
                    byte type = b.get();
                    long call = b.getLong();
                    if ((type == Frames.CALL || type == Frames.CALL_WITH_HEADERS)
                            && method(type, b).equals(EVENTS)) {
                        eventCalls.add(call);
                    }
                    out.write(frame);
                    out.flush();
                }
            } catch (IOException | RuntimeException e) {
                close();
            }
        }

        /** Node to client: frame by frame; an event stream's frames wait while events are held. */
        void nodeToClient() {
            try {
                DataInputStream in = new DataInputStream(node.getInputStream());
                while (true) {
                    byte[] frame = readFrame(in);
                    long call = ByteBuffer.wrap(frame, 5, 8).getLong();
                    synchronized (this) {
                        if (holding && eventCalls.contains(call)) {
                            waiting.add(frame);
                            held.incrementAndGet();
                        } else {
                            if (!holding) {
                                flush(); // what was held goes first
                            }
                            write(frame);
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                close();
            }
        }

        synchronized void flush() throws IOException {
            for (byte[] frame : waiting) {
                write(frame);
            }
            waiting.clear();
        }

        private void write(byte[] frame) throws IOException {
            OutputStream out = client.getOutputStream();
            out.write(frame);
            out.flush();
        }

        void close() {
            try {
                client.close();
                node.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** One whole frame: its length field and the bytes it counts. */
    private static byte[] readFrame(DataInputStream in) throws IOException {
        int length = in.readInt();
        byte[] frame = new byte[4 + length];
        ByteBuffer.wrap(frame).putInt(length);
        in.readFully(frame, 4, length);
        return frame;
    }

    /** The full method name of a call frame, read after its type and number. */
    private static String method(byte type, ByteBuffer body) {
        if (type == Frames.CALL_WITH_HEADERS) {
            int pairs = Short.toUnsignedInt(body.getShort());
            for (int i = 0; i < pairs; i++) {
                body.position(body.position() + Short.toUnsignedInt(body.getShort()));
                body.position(body.position() + body.getInt());
            }
        }
        byte[] name = new byte[Short.toUnsignedInt(body.getShort())];
        body.get(name);
        return new String(name, StandardCharsets.UTF_8);
    }
}
