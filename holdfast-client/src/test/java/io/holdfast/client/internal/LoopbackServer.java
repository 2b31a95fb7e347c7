package io.holdfast.client.internal;

import io.holdfast.internal.DaemonThreads;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test server on a free loopback port: once {@link #start() started} it accepts every connection
 * on a daemon thread, counts it and hands it to {@link #serve}. Closing it closes the listener and
 * every socket accepted or {@link #track tracked}.
 */
abstract class LoopbackServer implements AutoCloseable {
    private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final String threadName;

    LoopbackServer(String threadName) throws IOException {
        this.threadName = threadName;
    }

    /** Starts accepting; a subclass calls it last in its constructor. */
    final void start() {
        daemon(this::accept);
    }

    /** Serves one accepted connection (on the accepting thread: start a {@link #daemon} to block). */
    abstract void serve(Socket accepted) throws IOException;

    final int port() {
        return listener.getLocalPort();
    }

    final int connections() {
        return connections.get();
    }

    /** Closes {@code s} with this server. */
    final Socket track(Socket s) {
        sockets.add(s);
        return s;
    }

    final void daemon(Runnable r) {
        DaemonThreads.thread(r, threadName).start();
    }

    private void accept() {
        try {
            while (true) {
                Socket s = track(listener.accept());
                connections.incrementAndGet();
                serve(s);
            }
        } catch (IOException closed) {
            // the server is closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
