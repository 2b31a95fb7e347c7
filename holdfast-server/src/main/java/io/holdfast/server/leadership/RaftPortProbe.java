package io.holdfast.server.leadership;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * One dial of a member's Raft port, to tell whether a process serves there: what {@link
 * DeadLeaderWatch} confirms a leader's death with, and what {@code membership.JoinRescue} asks of
 * the leader that was adding a node.
 *
 * <p>Guarantees: a dial ends within {@value #CONNECT_MILLIS} ms plus {@value #PROBE_MILLIS} ms;
 * {@link Result#GONE} only when the connection was refused, or accepted and closed without a byte
 * (what a proxy in front of a dead process does). Not guaranteed: that {@link Result#SERVES} is a
 * Raft server, or a healthy one; a silent network is {@link Result#UNKNOWN}, never GONE.
 */
public final class RaftPortProbe {
    /** How long a dial may take; one that takes longer proves nothing (a silent network). */
    public static final int CONNECT_MILLIS = 300;
    /** How long a dialled connection is watched for being closed without a byte. */
    public static final int PROBE_MILLIS = 100;

    private RaftPortProbe() {}

    /** What a dial of a Raft address showed. */
    public enum Result {
        /** Refused, or accepted and closed without a byte: nothing serves there. */
        GONE,
        /** Accepted and kept open (or it sent something): a process serves there. */
        SERVES,
        /** The dial timed out or failed otherwise: nothing can be concluded. */
        UNKNOWN
    }

    /** One dial of {@code address}: see {@link Result}. */
    public static Result dial(String address) {
        try (Socket s = new Socket()) {
            s.connect(address(address), CONNECT_MILLIS);
            s.setSoTimeout(PROBE_MILLIS);
            try {
                return s.getInputStream().read() < 0 ? Result.GONE : Result.SERVES;
            } catch (SocketTimeoutException e) {
                return Result.SERVES;
            } catch (IOException e) {
                return Result.GONE; // reset right after the accept
            }
        } catch (ConnectException e) {
            return Result.GONE;
        } catch (IOException | IllegalArgumentException e) {
            return Result.UNKNOWN;
        }
    }

    /** {@code host:port} (the host may be a bracketed IPv6 literal), resolved now. */
    public static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not host:port: " + hostPort);
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
