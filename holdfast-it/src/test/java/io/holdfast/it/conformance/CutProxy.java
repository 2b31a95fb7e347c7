package io.holdfast.it.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of one node's client port (gRPC) that can lose an answer: once
 * {@linkplain #cutAfterNextRequest armed}, it forwards the next burst the client sends that is large
 * enough to be a request (at least {@value #REQUEST_BYTES} bytes: HTTP/2's pings and window updates
 * are smaller) and closes the connection before anything comes back. The node applies the request;
 * the client sees its connection fail and knows nothing of the outcome.
 *
 * <p>What the Java client's driver goes through for the retry scenario, where the other languages'
 * drivers go through {@link DropProxy}, which understands HTTP/1.1.
 */
final class CutProxy implements AutoCloseable {
    private static final int REQUEST_BYTES = 40;

    private final ServerSocket server;
    private final int upstreamPort;
    private final AtomicBoolean armed = new AtomicBoolean();
    private final AtomicInteger cut = new AtomicInteger();

    CutProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "cut-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** The next request's answer is lost with its connection. */
    void cutAfterNextRequest() {
        armed.set(true);
    }

    /** How many connections were cut. */
    int cut() {
        return cut.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket node = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                client.setTcpNoDelay(true);
                node.setTcpNoDelay(true);
                Object lock = new Object();
                start(() -> pump(client, node, true, lock));
                start(() -> pump(node, client, false, lock));
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void start(Runnable r) {
        Thread t = new Thread(r, "cut-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Copies one direction. Client to node: a burst that may be a request, once armed, is forwarded
     * and the client's side closed at once, under the lock the other direction takes before it
     * forwards, so that no byte of the answer gets through; the node's side stays open until its
     * answer comes (closing it at once could reset the connection before the node read the
     * request), then goes too.
     */
    private void pump(Socket from, Socket to, boolean fromClient, Object lock) {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (lock) {
                    if (from.isClosed() || to.isClosed()) {
                        break;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                    if (fromClient && n >= REQUEST_BYTES && armed.compareAndSet(true, false)) {
                        cut.incrementAndGet();
                        from.close(); // the client's side: its answer goes nowhere
                        return;
                    }
                }
            }
        } catch (IOException e) {
            // one side went: the other goes with it
        }
        closeQuietly(from);
        closeQuietly(to);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
