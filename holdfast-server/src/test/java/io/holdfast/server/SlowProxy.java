package io.holdfast.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A peer that is up but slow: a TCP proxy on loopback that accepts at once and, for each
 * connection, starts forwarding to the real address only after {@code delay}. What the client
 * sent meanwhile waits in the socket, so a call through it answers {@code delay} late.
 */
final class SlowProxy implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    SlowProxy(String target, Duration delay) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        int colon = target.lastIndexOf(':');
        InetSocketAddress to =
                new InetSocketAddress(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
        Thread accepting = new Thread(
                () -> {
                    while (!server.isClosed()) {
                        try {
                            Socket in = server.accept();
                            sockets.add(in);
                            start(() -> forwardLate(in, to, delay));
                        } catch (IOException e) {
                            return;
                        }
                    }
                },
                "slow-proxy-accept");
        accepting.setDaemon(true);
        accepting.start();
    }

    /** The address to give in place of the target's. */
    String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    private void forwardLate(Socket in, InetSocketAddress to, Duration delay) {
        try {
            Thread.sleep(delay.toMillis());
            Socket out = new Socket(to.getAddress(), to.getPort());
            sockets.add(out);
            start(() -> pump(in, out));
            pump(out, in);
        } catch (IOException | InterruptedException e) {
            close(in);
        }
    }

    private static void pump(Socket from, Socket to) {
        byte[] buffer = new byte[8192];
        try (InputStream i = from.getInputStream();
                OutputStream o = to.getOutputStream()) {
            for (int n; (n = i.read(buffer)) >= 0; ) {
                o.write(buffer, 0, n);
                o.flush();
            }
        } catch (IOException e) {
            // one side closed: the other is closed below
        } finally {
            close(from);
            close(to);
        }
    }

    private static void start(Runnable task) {
        Thread t = new Thread(task, "slow-proxy");
        t.setDaemon(true);
        t.start();
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing: nothing to add
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        sockets.forEach(SlowProxy::close);
    }
}
