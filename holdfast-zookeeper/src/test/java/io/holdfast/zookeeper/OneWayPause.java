package io.holdfast.zookeeper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback whose client-to-server direction can be paused while the other keeps
 * flowing: the client's packets stop reaching the server (they are held, not dropped, and the
 * connection stays up) while the server's still reach the client. It remembers when it last
 * delivered a byte to the server, so a test knows the earliest moment the server can expire a
 * session of a client behind it.
 */
final class OneWayPause implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private boolean paused; // guarded by gate
    private volatile long lastDeliveredNanos = System.nanoTime();

    private OneWayPause(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "one-way-pause-accept");
        accept.setDaemon(true);
        accept.start();
    }

    /** A proxy to {@code 127.0.0.1:targetPort}. */
    static OneWayPause to(int targetPort) throws IOException {
        return new OneWayPause(targetPort);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** From now on nothing more from the clients reaches the server; the server's bytes still flow. */
    void pauseClientToServer() {
        synchronized (gate) {
            paused = true;
        }
    }

    /** The {@link System#nanoTime()} at which the last client byte was written to the server. */
    long lastDeliveredNanos() {
        return lastDeliveredNanos;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                pump(client, server, true);
                pump(server, client, false);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to, boolean towardsServer) {
        Thread t = new Thread(
                () -> {
                    byte[] buffer = new byte[8192];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            if (towardsServer) {
                                awaitUnpaused();
                            }
                            out.write(buffer, 0, n);
                            out.flush();
                            if (towardsServer) {
                                lastDeliveredNanos = System.nanoTime();
                            }
                        }
                    } catch (IOException | InterruptedException e) {
                        // a side closed, or the proxy did
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                    }
                },
                "one-way-pause-" + (towardsServer ? "up" : "down"));
        t.setDaemon(true);
        t.start();
    }

    /** Holds the bytes read (the connection stays up) for as long as the direction is paused. */
    private void awaitUnpaused() throws InterruptedException {
        synchronized (gate) {
            while (paused) {
                gate.wait();
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        synchronized (gate) {
            paused = false; // the held bytes meet a closed socket, and their threads end
            gate.notifyAll();
        }
    }
}
