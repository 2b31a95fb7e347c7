package io.holdfast.verify.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * A {@link ProtectedStore} reached over TCP: the client of a {@link StoreServer}. One connection,
 * opened on the first write; writes are serialized ({@code synchronized}), one round trip each.
 *
 * <p>On any failure (connect refused or timed out, no reply within the read timeout, connection
 * reset, a reply it cannot parse) the connection is dropped and the write throws {@link
 * IOException}: the write may or may not have landed (and been logged) at the store. The write is
 * <b>never retried</b> here, since a retry could land twice; the next write opens a new
 * connection. An {@code ERR} reply (the store found the request malformed: a bug in the caller)
 * also throws {@link IOException}, but keeps the connection.
 */
public final class TcpProtectedStore implements ProtectedStore {
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(5);

    private final String host;
    private final int port;
    private final int connectTimeoutMs;
    private final int readTimeoutMs;
    private Socket socket;
    private BufferedReader in;
    private OutputStream out;
    private boolean closed;

    public TcpProtectedStore(String host, int port) {
        this(host, port, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT);
    }

    public TcpProtectedStore(String host, int port, Duration connectTimeout, Duration readTimeout) {
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.connectTimeoutMs = Math.toIntExact(Math.max(1, connectTimeout.toMillis()));
        this.readTimeoutMs = Math.toIntExact(Math.max(1, readTimeout.toMillis()));
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code key}, {@code process} or {@code phase} is empty or
     *     contains whitespace (the protocol could not carry it)
     * @throws IllegalStateException if this client is closed
     */
    @Override
    public synchronized boolean write(String key, long token, String process, long seq, String phase)
            throws IOException {
        checkWord("key", key);
        checkWord("process", process);
        checkWord("phase", phase);
        if (closed) {
            throw new IllegalStateException("store client closed");
        }
        String request = "W " + key + " " + token + " " + process + " " + seq + " " + phase + "\n";
        String reply;
        try {
            if (socket == null) {
                connect();
            }
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            reply = in.readLine();
            if (reply == null) {
                throw new IOException("store " + host + ":" + port + " closed the connection");
            }
        } catch (IOException e) {
            disconnect();
            throw e;
        }
        if (reply.startsWith("OK ")) {
            return true;
        }
        if (reply.startsWith("REFUSED ")) {
            return false;
        }
        if (reply.startsWith("ERR")) {
            throw new IOException("store " + host + ":" + port + " refused the request: " + reply);
        }
        disconnect();
        throw new IOException("store " + host + ":" + port + " answered nonsense: " + reply);
    }

    private void connect() throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), connectTimeoutMs);
            s.setSoTimeout(readTimeoutMs);
            in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            out = s.getOutputStream();
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot reach store " + host + ":" + port + ": " + e.getMessage(), e);
        }
        socket = s;
    }

    private void disconnect() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // dropping it anyway
            }
        }
        socket = null;
        in = null;
        out = null;
    }

    private static void checkWord(String what, String s) {
        if (s == null || s.isEmpty() || !s.chars().noneMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(what + " must be a non-empty word: '" + s + "'");
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        disconnect();
    }

    @Override
    public String toString() {
        return "TcpProtectedStore[" + host + ":" + port + "]";
    }
}
