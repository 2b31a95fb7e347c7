// Ceiling 450 lines, one idea: one directed TCP link and every fault it can play (pass, blackhole,
// one-way drops, delay, cut), which share the connections' state.
package io.holdfast.verify.net;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy for one directed link: it listens on {@code (bindAddress, port)} and forwards every
 * connection it accepts to {@code (targetHost, targetPort)}. Plain blocking sockets; one daemon
 * thread accepts, and each connection has two daemon threads, one per direction. <b>Forward</b> is
 * from the dialer (who connected to the proxy) to the target, <b>backward</b> the replies.
 *
 * <p>The proxy's state can be changed at any time and applies at once to every live connection
 * and to the ones accepted later:
 *
 * <ul>
 *   <li>{@link #pass()}: forward everything, no delay (the initial state);
 *   <li>{@link #blackhole()}: connections stay open (new ones are still accepted and dialed through
 *       to the target) but every byte either way is read and thrown away, as when a network silently
 *       drops packets: neither side learns anything until its own timeouts fire;
 *   <li>{@link #dropForward()} / {@link #dropBackward()}: the same for one direction only;
 *   <li>{@link #delay(Duration)}: each chunk read is written on after the delay, order kept;
 *   <li>{@link #cut()}: closes every current connection abruptly (both sockets, with {@code
 *       SO_LINGER 0}, so the peers get a RST), and keeps accepting new ones.
 * </ul>
 *
 * Drops and the delay add up ({@code dropForward(); dropBackward()} is a blackhole, a delay stays
 * while drops come and go); only {@link #pass()} clears them all.
 *
 * <p><b>What is not like a real network</b>, and what the proxy does about it:
 *
 * <ul>
 *   <li>A real network loses packets, not bytes of a stream: TCP retransmits, and once the network
 *       heals the receiver gets the stream whole. Here the dropped bytes are gone, so a connection
 *       that lost bytes would go on with a hole in the middle of its stream (for gRPC: garbage HTTP/2
 *       frames, or a reader waiting forever for a frame that will never be complete). So a
 *       connection that lost any byte in a direction is <b>reset</b> (as {@link #cut()}) the moment
 *       that direction passes again, or when it would forward the next chunk; connections that lost
 *       nothing carry on. After a heal, clients therefore see a reset and reconnect, as they would
 *       after a real TCP connection had timed out during a long partition.
 *   <li>A close (FIN) in a dropped direction is held back, as a lost FIN would be, and passed on
 *       (as a half-close) when the direction passes again; a reset (RST, read error) closes the
 *       whole connection at once.
 *   <li>A new connection is accepted even in a blackhole (a real network would lose the SYN and the
 *       dialer's connect would time out instead); the target sees a connection carrying no bytes.
 *   <li>The delay is per chunk, on the direction's own thread: a chunk that arrives while the
 *       previous one waits out its delay waits for it first, so under steady traffic the latency is
 *       between one and two delays. If the receiver stops reading (a paused process), the thread
 *       blocks in the write and the sender's TCP window fills, as on a real link; a drop set while
 *       it is blocked applies from the next chunk on.
 * </ul>
 *
 * <p>Counters: connections accepted, bytes forwarded and bytes dropped, both directions summed.
 */
public final class LinkProxy implements Closeable {
    private static final int CHUNK = 16 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 5_000;

    /** The proxy's state: which directions drop, and the delay. Immutable. */
    private record State(boolean dropForward, boolean dropBackward, long delayNanos) {
        static final State PASS = new State(false, false, 0);

        boolean drops(boolean forward) {
            return forward ? dropForward : dropBackward;
        }
    }

    private final String name;
    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final Set<Conn> conns = ConcurrentHashMap.newKeySet();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong bytesForwarded = new AtomicLong();
    private final AtomicLong bytesDropped = new AtomicLong();
    private final Object lock = new Object();
    private volatile State state = State.PASS;
    private volatile boolean closed;

    /**
     * Binds the listening socket and starts accepting.
     *
     * @param name for thread names and messages (the link's name, e.g. {@code n1->n2/raft})
     * @param bindAddress the address to listen on (any {@code 127.x.y.z} works on Linux)
     * @param port the port to listen on (0: any free port, see {@link #port()})
     * @throws IOException if the address cannot be bound
     */
    public LinkProxy(String name, InetAddress bindAddress, int port, String targetHost, int targetPort)
            throws IOException {
        this.name = Objects.requireNonNull(name, "name");
        this.targetHost = Objects.requireNonNull(targetHost, "targetHost");
        this.targetPort = targetPort;
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(bindAddress, port), 128);
        } catch (IOException e) {
            s.close();
            throw new IOException(
                    "proxy " + name + " cannot listen on " + bindAddress + ":" + port + ": " + e.getMessage(), e);
        }
        this.server = s;
        Thread t = new Thread(this::acceptLoop, "proxy-" + name + "-accept");
        t.setDaemon(true);
        t.start();
    }

    public String name() {
        return name;
    }

    /** The address the proxy listens on. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Forward everything both ways, no delay (clears drops and the delay). */
    public void pass() {
        setState(State.PASS);
    }

    /** Drop every byte both ways; connections stay open. */
    public void blackhole() {
        update(s -> new State(true, true, s.delayNanos));
    }

    /** Drop every byte from the dialer to the target; replies still flow. */
    public void dropForward() {
        update(s -> new State(true, s.dropBackward, s.delayNanos));
    }

    /** Drop every byte from the target back to the dialer; requests still flow. */
    public void dropBackward() {
        update(s -> new State(s.dropForward, true, s.delayNanos));
    }

    /** Forward each chunk after this delay (zero: no delay), both directions; drops stay as they are. */
    public void delay(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("negative delay " + delay);
        }
        update(s -> new State(s.dropForward, s.dropBackward, delay.toNanos()));
    }

    /** Whether bytes from the dialer to the target are currently dropped. */
    public boolean dropsForward() {
        return state.dropForward;
    }

    /** Whether bytes from the target to the dialer are currently dropped. */
    public boolean dropsBackward() {
        return state.dropBackward;
    }

    /** The current delay. */
    public Duration currentDelay() {
        return Duration.ofNanos(state.delayNanos);
    }

    /** Closes every current connection abruptly (RST to both sides); new ones are still accepted. */
    public void cut() {
        for (Conn c : List.copyOf(conns)) {
            c.reset();
        }
    }

    /** Connections accepted so far. */
    public long connections() {
        return connections.get();
    }

    /** Connections open now. */
    public int openConnections() {
        return conns.size();
    }

    /** Bytes passed on, both directions. */
    public long bytesForwarded() {
        return bytesForwarded.get();
    }

    /** Bytes read and thrown away, both directions. */
    public long bytesDropped() {
        return bytesDropped.get();
    }

    /** Stops accepting and resets every connection. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        cut();
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    @Override
    public String toString() {
        State s = state;
        return "LinkProxy[" + name + " " + address() + " -> " + targetHost + ":" + targetPort
                + (s.dropForward ? " dropForward" : "") + (s.dropBackward ? " dropBackward" : "")
                + (s.delayNanos > 0 ? " delay=" + Duration.ofNanos(s.delayNanos) : "") + "]";
    }

    private interface StateChange {
        State apply(State s);
    }

    private void update(StateChange change) {
        synchronized (lock) {
            setState(change.apply(state));
        }
    }

    private void setState(State next) {
        synchronized (lock) {
            state = next;
            lock.notifyAll();
        }
        // a direction that passes again must not deliver a stream with a hole in it
        for (Conn c : List.copyOf(conns)) {
            if ((c.lostForward && !next.dropForward) || (c.lostBackward && !next.dropBackward)) {
                c.reset();
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket dialer;
            try {
                dialer = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            connections.incrementAndGet();
            Thread t = new Thread(() -> open(dialer), "proxy-" + name + "-fwd");
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * Dials the target for one accepted connection, starts the backward pump and runs the forward
     * one on the calling thread.
     */
    private void open(Socket dialer) {
        Socket target = new Socket();
        Conn c = new Conn(dialer, target);
        conns.add(c); // before the dial: a cut() or close() from now on resets this one too
        try {
            dialer.setTcpNoDelay(true);
            target.setTcpNoDelay(true);
            target.connect(new InetSocketAddress(targetHost, targetPort), CONNECT_TIMEOUT_MS);
            if (target.getLocalSocketAddress().equals(target.getRemoteSocketAddress())) {
                // TCP self-connect: with the target down, the kernel can pick the target's own port as
                // the ephemeral port and the connect "succeeds" to itself
                throw new IOException("self-connect to " + target.getRemoteSocketAddress());
            }
        } catch (IOException e) {
            // the target is down (or the connection was cut meanwhile): the dialer sees a reset, as it
            // would dialing the target itself
            c.reset();
            return;
        }
        if (closed || c.dead) {
            c.reset();
            return;
        }
        c.run();
    }

    private static void abort(Socket s) {
        try {
            if (!s.isClosed() && s.isConnected()) {
                s.setSoLinger(true, 0);
            }
        } catch (SocketException ignored) {
            // closing anyway
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }

    /** One proxied connection: the dialer's socket, the target's socket and two pumps. */
    private final class Conn {
        private final Socket dialer;
        private final Socket target;
        private volatile boolean lostForward;
        private volatile boolean lostBackward;
        private volatile boolean dead;
        private int pumpsDone;

        Conn(Socket dialer, Socket target) {
            this.dialer = dialer;
            this.target = target;
        }

        void run() {
            Thread back = new Thread(() -> pump(false), "proxy-" + name + "-back");
            back.setDaemon(true);
            back.start();
            pump(true);
        }

        /** Copies one direction until EOF or an error, applying the proxy's state to each chunk. */
        private void pump(boolean forward) {
            Socket from = forward ? dialer : target;
            Socket to = forward ? target : dialer;
            byte[] buf = new byte[CHUNK];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    long readAt = System.nanoTime();
                    State s = state;
                    if (s.drops(forward)) {
                        bytesDropped.addAndGet(n);
                        if (forward) {
                            lostForward = true;
                        } else {
                            lostBackward = true;
                        }
                        continue;
                    }
                    if (forward ? lostForward : lostBackward) {
                        reset(); // the stream has a hole: never deliver what follows it
                        return;
                    }
                    if (s.delayNanos > 0) {
                        sleepUntil(readAt + s.delayNanos);
                    }
                    out.write(buf, 0, n);
                    out.flush();
                    bytesForwarded.addAndGet(n);
                }
                // EOF: hold the FIN back while this direction drops, then pass it on as a half-close
                synchronized (lock) {
                    while (state.drops(forward) && !dead && !closed) {
                        lock.wait();
                    }
                }
                if (forward ? lostForward : lostBackward) {
                    reset();
                    return;
                }
                if (!dead) {
                    to.shutdownOutput();
                }
                finishOne();
            } catch (IOException e) {
                reset();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reset();
            }
        }

        private void sleepUntil(long deadline) throws InterruptedException {
            long left;
            while ((left = deadline - System.nanoTime()) > 0) {
                Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
            }
        }

        /** Both directions ended with a FIN: close normally. */
        private void finishOne() {
            boolean both;
            synchronized (this) {
                both = ++pumpsDone == 2;
            }
            if (both) {
                dead = true;
                conns.remove(this);
                try {
                    dialer.close();
                } catch (IOException ignored) {
                    // done
                }
                try {
                    target.close();
                } catch (IOException ignored) {
                    // done
                }
            }
        }

        /** Closes both sockets with a RST; the pumps end on their own. */
        void reset() {
            dead = true;
            conns.remove(this);
            abort(dialer);
            abort(target);
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }
}
