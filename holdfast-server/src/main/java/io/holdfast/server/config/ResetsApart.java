package io.holdfast.server.config;

import java.io.IOException;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.IOUtils;

/**
 * A Ratis client's RPC whose connection resets never hold the thread that asked for one: every
 * Ratis client Holdfast builds ({@link RaftSettings#clientRpc}) rides one.
 *
 * <p><b>Guarantees.</b> Every call is the wrapped RPC's, but a reset ({@link #handleException}
 * with {@code reconnect}, or a failure Ratis reconnects on): the wrapped RPC drops its connection
 * to that member and closes it on a thread of its own, and this call returns at once, with what
 * the wrapped call would have returned. The next request to that member opens a new connection,
 * as after a reset done in place.
 *
 * <p><b>Why.</b> Ratis's client (3.3.0) resets its connection to a member each time the member
 * answers {@code NotLeaderException} or cannot be reached ({@code RaftClientImpl#handleIOException}),
 * on the thread that handles the reply: for the unordered requests of {@code LeaderLink}, a worker
 * of the common fork-join pool, which has one worker on a two-core machine. The reset closes the
 * member's gRPC channel and waits up to 3 s for its calls to end, then up to 2 s more ({@code
 * GrpcUtil.shutdownManagedChannel}); the member ends the client's stream only once it has answered
 * every request on it, so while one is still pending there the reset waits the 3 s, and with it
 * the request that met the refusal and every other reply on that pool. After a leader's SIGKILL, a
 * follower's forwarded writes stood until their 2.5 s bound: five of twenty probe gaps in {@code
 * failover.sh} were 2.6 s where the median was half a second (docs/benchmarks.md, 2026-12-07).
 *
 * <p><b>Does not</b> make a close itself shorter, or change what Ratis retries. A request sent to
 * the member between the reset's start and the dropping of its connection may meet the closing
 * channel and fail: Ratis's retry policy then decides, as for any failed try.
 */
final class ResetsApart implements RaftClientRpc {
    private final RaftClientRpc rpc;
    private final Executor resets;

    /**
     * @param rpc the RPC that does the calls and the resets
     * @param resets where its resets run: never the caller's thread
     */
    ResetsApart(RaftClientRpc rpc, Executor resets) {
        this.rpc = rpc;
        this.resets = resets;
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest request) {
        return rpc.sendRequestAsync(request);
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest request) {
        return rpc.sendRequestAsyncUnordered(request);
    }

    @Override
    public RaftClientReply sendRequest(RaftClientRequest request) throws IOException {
        return rpc.sendRequest(request);
    }

    /**
     * Decides as Ratis's RPCs do ({@code RaftClientRpcWithProxy} through {@code
     * PeerProxyMap.handleException}: a reset when asked for or when {@link IOUtils#shouldReconnect}
     * says so, and then {@code true}), and leaves the reset itself to {@code resets}.
     */
    @Override
    public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
        if (!reconnect && !IOUtils.shouldReconnect(t)) {
            return false; // the wrapped RPC does nothing then, and says so
        }
        resets.execute(() -> rpc.handleException(serverId, t, true));
        return true;
    }

    @Override
    public boolean shouldReconnect(Throwable t) {
        return rpc.shouldReconnect(t);
    }

    @Override
    public void addRaftPeers(Collection<RaftPeer> peers) {
        rpc.addRaftPeers(peers);
    }

    @Override
    public void close() throws IOException {
        rpc.close();
    }
}
