package io.holdfast.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether any member of a store accepts a TCP connection, for providers whose client library retries
 * an unreachable address until its own deadline and then reports only a timeout (jetcd, Curator).
 * Asking first lets the provider fail at once with the reason a reader needs: "connection refused",
 * "unknown host", or no answer within the connect timeout.
 *
 * <p>What it guarantees: {@link #noneAccepts} returns null as soon as one address accepts a
 * connection (it is closed at once, nothing is sent), and otherwise one line with every address's
 * reason; it spends at most the timeout per address. What it does not say: that what accepted is
 * the store (a TLS port, another service); the client library finds that out itself. One failure
 * story it prevents: {@code holdfast lock --backend etcd://127.0.0.1:2999} reporting, after the
 * request timeout, that etcd "did not answer granting the session lease", when nothing listens there.
 */
public final class Reachability {
    private Reachability() {}

    /**
     * Null if one of {@code hostPorts} ({@code host:port}, IPv6 hosts in brackets) accepts a TCP
     * connection within {@code timeout}; else every address with its reason, separated by "; ".
     */
    public static String noneAccepts(List<String> hostPorts, Duration timeout) {
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        List<String> reasons = new ArrayList<>();
        for (String hostPort : hostPorts) {
            int colon = hostPort.lastIndexOf(':');
            String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), millis);
                return null;
            } catch (SocketTimeoutException e) {
                reasons.add(hostPort + ": no answer within " + millis + " ms");
            } catch (UnknownHostException e) {
                reasons.add(hostPort + ": unknown host");
            } catch (IOException | IllegalArgumentException e) {
                String why = Causes.oneLine(
                        Causes.deepest(e) == null
                                ? e.toString()
                                : Causes.deepest(e).getMessage());
                reasons.add(hostPort + ": "
                        + (why.toLowerCase(java.util.Locale.ROOT).contains("connection refused")
                                ? "connection refused"
                                : why));
            }
        }
        return String.join("; ", reasons);
    }
}
