package io.holdfast.zookeeper;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.spi.LockProvider;
import io.holdfast.store.StoreLockClient;

/**
 * The Holdfast API over Apache ZooKeeper, for URIs {@code
 * zookeeper://host:port[,host:port...][/chroot][?connectTimeout=10s]}.
 *
 * <p><b>What it guarantees.</b> Mutual exclusion as long as the ensemble has a quorum; a fair FIFO
 * queue per name shared by exclusive, shared and semaphore requests (ephemeral sequential nodes,
 * each waiter watching only the node it depends on); fencing tokens that are ZooKeeper zxids, so
 * they grow with every grant across every name and across restarts of the ensemble; a crashed
 * holder's locks come back when ZooKeeper expires its session (the client's {@link
 * ClientOptions#sessionTtl()}, as the server negotiates it); {@code INSPECT}, {@code CHECK_FENCE}
 * and {@code REVOKE} for operators.
 *
 * <p><b>What it does not.</b> No lease timeouts (a grant lives as long as the session), no
 * lock-delay, no deadlock detection, no registers: these throw {@link
 * io.holdfast.UnsupportedFeatureException}.
 *
 * <p><b>A failure story.</b> The holder's network drops. ZooKeeper's client notices the silence after
 * two thirds of the session timeout; a quarter of the timeout later the lease is reported lost (its
 * callbacks run), before the server can expire the session and grant the lock to the next waiter,
 * whose token is larger. If the network comes back within the session, the old holder's node is
 * deleted by its own client, so it does not keep the lock that it was told it lost.
 */
public final class ZooKeeperProvider implements LockProvider {
    @Override
    public String name() {
        return "zookeeper";
    }

    @Override
    public boolean accepts(String uri) {
        return uri != null && uri.startsWith(ZooKeeperUri.SCHEME);
    }

    /**
     * Connects and returns a client with a ZooKeeper session of its own.
     *
     * @throws InvalidArgumentException if the URI is malformed (naming what is wrong)
     * @throws io.holdfast.UnavailableException if no server of the ensemble answers in time
     */
    @Override
    public LockClient open(String uri, ClientOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("options must not be null");
        }
        ZooKeeperUri parsed = ZooKeeperUri.parse(uri);
        return new StoreLockClient(ZooKeeperBackend.connect(parsed, options), options);
    }
}
