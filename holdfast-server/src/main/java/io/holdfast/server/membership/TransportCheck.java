package io.holdfast.server.membership;

import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.RaftTransport;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupListRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses to start a node whose peers talk Raft over the other {@link RaftTransport}: members on
 * gRPC and on Netty cannot hear each other, and Ratis would only retry, each side taking the other
 * for down, for ever.
 *
 * <p>Before Ratis starts, the node asks each other member's Raft port, all at once, what it talks
 * ({@link #speaks}): a gRPC port answers the start of an HTTP/2 connection, a Netty port Ratis's
 * Netty request for its list of groups. A member that talks the other transport stops the start
 * with one line naming it and both transports. A member that is down, paused or answers neither
 * way within {@value #TIMEOUT_MILLIS} ms is passed over, so a mixed cluster is caught by whichever
 * member starts after one on the other transport is up. Costs a node on gRPC one short exchange
 * per member that is up, and a node on Netty up to a second more (a Netty port does not answer
 * the HTTP/2 start).
 *
 * <p>A node on Netty also says, in one WARN line, that Netty is not for production ({@link
 * RaftTransport}).
 *
 * <p>Does not probe with TLS on: the node then uses gRPC with TLS, and a Netty member, which has
 * none, is refused by the TLS handshake anyway.
 */
public final class TransportCheck {
    /** An HTTP/2 client's connection preface, then an empty SETTINGS frame. */
    private static final byte[] HTTP2_PREFACE = concat(
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            new byte[] {0, 0, 0, 0x4, 0, 0, 0, 0, 0});

    private static final Logger LOG = LoggerFactory.getLogger(TransportCheck.class);
    static final long TIMEOUT_MILLIS = 1000;

    private TransportCheck() {}

    public static void check(ServerConfig config, RaftGroup group) throws StartupException {
        if (config.raftTransport() == RaftTransport.NETTY) {
            LOG.warn(
                    "Node {} talks Raft over netty, which is not for production: no TLS, and a connection reset"
                            + " as it is made can cut the leader off a follower until the leader restarts (Ratis"
                            + " 3.3.0; docs/adr/0002-raft-transport.md)",
                    config.nodeId());
        }
        if (config.tls() != null) {
            return;
        }
        RaftPeerId self = RaftPeerId.valueOf(config.nodeId());
        List<RaftPeer> others = new ArrayList<>();
        for (RaftPeer peer : group.getPeers()) {
            if (!peer.getId().equals(self)) {
                others.add(peer);
            }
        }
        ExecutorService pool = Executors.newCachedThreadPool(DaemonThreads.named("holdfast-transport-check"));
        try {
            List<CompletableFuture<Optional<RaftTransport>>> probes = new ArrayList<>();
            for (RaftPeer peer : others) {
                probes.add(CompletableFuture.supplyAsync(() -> speaks(peer, group), pool));
            }
            List<String> onOther = new ArrayList<>();
            RaftTransport other = null;
            for (int i = 0; i < others.size(); i++) {
                Optional<RaftTransport> speaks = probes.get(i).join();
                if (speaks.isPresent() && speaks.get() != config.raftTransport()) {
                    onOther.add(others.get(i).getId().toString());
                    other = speaks.get();
                }
            }
            if (!onOther.isEmpty()) {
                throw new StartupException(
                        "member " + String.join(", ", onOther) + " talks Raft over " + other + " and node "
                                + config.nodeId() + " over " + config.raftTransport() + ": every member of a"
                                + " cluster uses the same --raft-transport (to switch, stop every member and start"
                                + " them all on the new one)",
                        null);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * What {@code peer}'s Raft port talks, as at most two exchanges tell: empty when it does not
     * answer in time or answers neither as gRPC nor as Ratis's Netty transport. First the start of
     * an HTTP/2 connection, which a gRPC port answers with its settings (and takes for a client
     * that went away); then, if that gets no HTTP/2 answer, Ratis's Netty request for the groups.
     */
    public static Optional<RaftTransport> speaks(RaftPeer peer, RaftGroup group) {
        if (answersHttp2(peer)) {
            return Optional.of(RaftTransport.GRPC);
        }
        try (Socket socket = connect(peer)) {
            GroupListRequest request = new GroupListRequest(ClientId.randomId(), peer.getId(), group.getGroupId(), 1);
            RaftNettyServerRequestProto.newBuilder()
                    .setGroupListRequest(ClientProtoUtils.toGroupListRequestProto(request))
                    .build()
                    .writeDelimitedTo(socket.getOutputStream());
            socket.getOutputStream().flush();
            RaftNettyServerReplyProto reply = RaftNettyServerReplyProto.parseDelimitedFrom(socket.getInputStream());
            return reply != null && (reply.hasGroupListReply() || reply.hasExceptionReply())
                    ? Optional.of(RaftTransport.NETTY)
                    : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether {@code peer}'s Raft port answers an HTTP/2 client's preface with a SETTINGS frame. */
    private static boolean answersHttp2(RaftPeer peer) {
        try (Socket socket = connect(peer)) {
            socket.getOutputStream().write(HTTP2_PREFACE);
            socket.getOutputStream().flush();
            byte[] header = socket.getInputStream().readNBytes(9);
            return header.length == 9 && header[3] == 0x4; // a frame of type SETTINGS
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static Socket connect(RaftPeer peer) throws IOException {
        String address = peer.getAddress();
        int colon = address.lastIndexOf(':');
        Socket socket = new Socket();
        try {
            socket.connect(
                    new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                    (int) TIMEOUT_MILLIS);
            socket.setSoTimeout((int) TIMEOUT_MILLIS);
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
