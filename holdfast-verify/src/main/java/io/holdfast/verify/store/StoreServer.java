package io.holdfast.verify.store;

import io.holdfast.verify.history.History;
import io.holdfast.verify.history.StoreWrite;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A protected store as a TCP server: the resource that critical sections write to, which logs every
 * write it receives as a {@link StoreWrite} line (through {@link History.Writer}, flushed) <b>before</b>
 * answering, so a write a client saw answered is always in the log, even if the store is killed
 * right after.
 *
 * <p><b>Protocol</b> (ASCII lines ending in {@code \n}, one reply line per request line):
 *
 * <pre>
 * W &lt;key&gt; &lt;token&gt; &lt;process&gt; &lt;seq&gt; &lt;phase&gt;   →   OK &lt;highestBefore&gt; | REFUSED &lt;highestBefore&gt;
 * anything else                                →   ERR &lt;reason&gt;
 * </pre>
 *
 * {@code token} and {@code seq} are decimal longs, {@code phase} is {@code enter}, {@code work} or {@code exit},
 * {@code key} and {@code process} contain no whitespace. {@code highestBefore} is the highest token
 * the store had seen for the key before this write, 0 if none (fencing tokens are positive).
 *
 * <ul>
 *   <li>{@link Mode#FENCED} (store name {@code "fenced"}) accepts a write iff its token is at least
 *       the highest token seen for the key; an accepted write raises it. A refused write is logged
 *       too ({@code accepted=false}).
 *   <li>{@link Mode#UNFENCED} ({@code "unfenced"}) accepts everything, and still tracks the highest
 *       token per key for the log (so the checker can see what fencing would have refused).
 * </ul>
 *
 * Writes are decided and logged one at a time, in one order for all keys (a lock around decide +
 * log), so the log's order is the store's order. A bad request gets {@code ERR} and is neither
 * logged nor applied; the connection stays usable. Lines longer than {@value #MAX_LINE} bytes are
 * refused as a whole. If the log cannot be written the write is not applied and the reply is
 * {@code ERR log: ...}.
 *
 * <p>State lives in memory only: a restarted store starts with no highest tokens (the harness
 * never restarts stores during a run).
 *
 * <p>Run as a process: {@code --mode fenced|unfenced --port P --log FILE [--bind ADDR]} (bind
 * defaults to 127.0.0.1, port 0 = any free port); prints {@code READY <port>} on stdout once it
 * listens, and runs until killed.
 */
public final class StoreServer implements Closeable {
    /** The longest request line accepted, newline excluded. */
    public static final int MAX_LINE = 1024;

    /** Fenced or not. */
    public enum Mode {
        FENCED(StoreWrite.FENCED),
        UNFENCED(StoreWrite.UNFENCED);

        private final String storeName;

        Mode(String storeName) {
            this.storeName = storeName;
        }

        /** The store name in the log: {@code "fenced"} or {@code "unfenced"}. */
        public String storeName() {
            return storeName;
        }
    }

    private final Mode mode;
    private final ServerSocket server;
    private final History.Writer log;
    private final Map<String, Long> highest = new HashMap<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private StoreServer(Mode mode, ServerSocket server, History.Writer log) {
        this.mode = mode;
        this.server = server;
        this.log = log;
    }

    /**
     * Opens (appends to) the log, binds, and starts serving.
     *
     * @param port 0: any free port (see {@link #port()})
     * @throws IOException if the log cannot be opened or the port bound
     */
    public static StoreServer start(Mode mode, InetAddress bind, int port, Path logFile) throws IOException {
        History.Writer log = new History.Writer(logFile);
        ServerSocket ss = new ServerSocket();
        try {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(bind, port), 128);
        } catch (IOException e) {
            ss.close();
            log.close();
            throw e;
        }
        StoreServer s = new StoreServer(mode, ss, log);
        Thread t = new Thread(s::acceptLoop, "store-" + mode.storeName() + "-accept");
        t.setDaemon(true);
        t.start();
        return s;
    }

    public Mode mode() {
        return mode;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Stops accepting, closes every connection and the log. */
    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        synchronized (highest) {
            log.close();
        }
    }

    /**
     * Handles one request line and returns the reply line (no newline). Public for tests and for
     * an in-process store.
     */
    public String handle(String line) {
        String[] f = line.trim().split("\\s+", -1);
        if (f.length == 0 || !f[0].equals("W")) {
            return "ERR unknown request (expected: W <key> <token> <process> <seq> <phase>)";
        }
        if (f.length != 6) {
            return "ERR expected 6 fields: W <key> <token> <process> <seq> <phase>, got " + f.length;
        }
        long token;
        long seq;
        try {
            token = Long.parseLong(f[2]);
        } catch (NumberFormatException e) {
            return "ERR bad token '" + abbreviate(f[2]) + "'";
        }
        try {
            seq = Long.parseLong(f[4]);
        } catch (NumberFormatException e) {
            return "ERR bad seq '" + abbreviate(f[4]) + "'";
        }
        String phase = f[5];
        if (!phase.equals(StoreWrite.ENTER) && !phase.equals(StoreWrite.EXIT) && !phase.equals(StoreWrite.WORK)) {
            return "ERR bad phase '" + abbreviate(phase) + "' (enter, work or exit)";
        }
        String key = f[1];
        String process = f[3];
        synchronized (highest) {
            if (closed) {
                return "ERR closed";
            }
            long before = highest.getOrDefault(key, 0L);
            boolean accepted = mode == Mode.UNFENCED || token >= before;
            try {
                log.append(new StoreWrite(
                        System.nanoTime(), mode.storeName(), key, token, process, seq, phase, accepted, before));
            } catch (UncheckedIOException e) {
                return "ERR log: " + e.getCause().getMessage();
            }
            if (token > before) {
                highest.put(key, token);
            }
            return (accepted ? "OK " : "REFUSED ") + before;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            open.add(s);
            Thread t = new Thread(() -> serve(s), "store-" + mode.storeName() + "-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            boolean tooLong = false;
            int b;
            while ((b = in.read()) >= 0) {
                if (b != '\n') {
                    if (line.size() < MAX_LINE) {
                        line.write(b);
                    } else {
                        tooLong = true;
                    }
                    continue;
                }
                String reply = tooLong
                        ? "ERR line longer than " + MAX_LINE + " bytes"
                        : handle(line.toString(StandardCharsets.US_ASCII));
                line.reset();
                tooLong = false;
                out.write((reply + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            open.remove(s);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    /** {@code --mode fenced|unfenced --port P --log FILE [--bind ADDR]}; see the class comment. */
    public static void main(String[] args) throws Exception {
        Mode mode = null;
        Integer port = null;
        Path logFile = null;
        String bind = "127.0.0.1";
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after " + a);
                }
                String v = args[++i];
                switch (a) {
                    case "--mode":
                        mode = Mode.valueOf(v.toUpperCase(Locale.ROOT));
                        break;
                    case "--port":
                        port = Integer.parseInt(v);
                        break;
                    case "--log":
                        logFile = Path.of(v);
                        break;
                    case "--bind":
                        bind = v;
                        break;
                    default:
                        throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (mode == null || port == null || logFile == null) {
                throw new IllegalArgumentException("--mode, --port and --log are required");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("store: " + e.getMessage());
            System.err.println("usage: StoreServer --mode fenced|unfenced --port P --log FILE [--bind ADDR]");
            System.exit(2);
            return;
        }
        StoreServer s = start(mode, InetAddress.getByName(bind), port, logFile);
        PrintStream out = System.out;
        out.println("READY " + s.port());
        out.flush();
        new CountDownLatch(1).await(); // until killed
    }
}
