package io.holdfast.it.conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An HTTP/1.1 proxy on loopback in front of one node that can lose an answer: once {@linkplain
 * #dropNext armed} with a route, it forwards the next request of that route (its method and path,
 * as {@code POST /api/v1/acquire}), lets the node answer it, and closes the client's connection
 * instead of passing the answer on. The client then knows
 * nothing of the outcome, as after a network fault, and must send the same request again.
 *
 * <p>Requests and answers are passed whole (the node's answers have a {@code Content-Length}); a
 * client connection gets one connection to the node of its own.
 */
final class DropProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int upstreamPort;
    private final AtomicReference<String> armed = new AtomicReference<>();
    private final AtomicInteger dropped = new AtomicInteger();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();

    DropProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "drop-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** The next acquire's answer is lost. */
    void dropNextAcquire() {
        dropNext("POST /api/v1/acquire");
    }

    /** The answer of the next request of {@code route} ({@code "POST /api/v1/txn"}) is lost. */
    void dropNext(String route) {
        armed.set(route);
    }

    /** How many answers were lost. */
    int dropped() {
        return dropped.get();
    }

    /** How many acquires passed through (answered or not). */
    int acquires() {
        return requests("POST /api/v1/acquire");
    }

    /** How many requests of {@code route} passed through (answered or not). */
    int requests(String route) {
        return requests.computeIfAbsent(route, r -> new AtomicInteger()).get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread t = new Thread(() -> relay(client), "drop-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        try (client;
                Socket node = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
            InputStream fromClient = client.getInputStream();
            OutputStream toClient = client.getOutputStream();
            InputStream fromNode = node.getInputStream();
            OutputStream toNode = node.getOutputStream();
            while (true) {
                byte[] request = readMessage(fromClient);
                if (request == null) {
                    return;
                }
                toNode.write(request);
                toNode.flush();
                byte[] answer = readMessage(fromNode);
                if (answer == null) {
                    return;
                }
                String line = new String(request, 0, Math.min(request.length, 200), StandardCharsets.ISO_8859_1);
                String[] words = line.split("[ ?]", 3);
                String route = words.length > 1 ? words[0] + " " + words[1] : line;
                requests.computeIfAbsent(route, r -> new AtomicInteger()).incrementAndGet();
                String target = armed.get();
                if (route.equals(target) && armed.compareAndSet(target, null)) {
                    dropped.incrementAndGet();
                    return; // the node answered; the client never hears it
                }
                toClient.write(answer);
                toClient.flush();
            }
        } catch (IOException e) {
            // a side closed: so does the other
        }
    }

    /** One request or answer: its head and its body of Content-Length bytes; null at the end of the stream. */
    private static byte[] readMessage(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        int length = 0;
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0
                    && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                length = Integer.parseInt(line.substring(colon + 1).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            return null;
        }
        head.write(body);
        return head.toByteArray();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
