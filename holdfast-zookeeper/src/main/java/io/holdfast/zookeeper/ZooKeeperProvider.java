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
 * <p><b>Validity.</b> A lease is valid only while the ZooKeeper session that holds its node is sure
 * to live by the server's own rule: the negotiated session timeout counted from the sending of the
 * latest request the server answered (the client probes every quarter of the timeout), less a
 * margin of a tenth of the timeout for clock rate drift, on the client's injected {@link
 * io.holdfast.Ticker}. Once that moment passes, every lease of the client is reported lost (its
 * callbacks run, {@code isValid()} reads false), before the server can expire the session and
 * grant the lock to the next waiter, whatever ZooKeeper's own client believes about its connection.
 * It also gives the leases up a quarter of the timeout after it reports the connection down.
 *
 * <p><b>What it does not.</b> No lease timeouts (a grant lives as long as the session), no
 * lock-delay, no deadlock detection: these throw {@link io.holdfast.UnsupportedFeatureException}.
 * A holder paused (a long GC) past the moment is told only when it runs again: fence writes with
 * the token.
 *
 * <p><b>A failure story.</b> The holder's packets stop reaching the server while the server's still
 * reach the holder (a one-way network fault; watch events keep arriving), so ZooKeeper's client
 * never sees the silence that would make it disconnect. No probe is answered, and a tenth of the
 * timeout before the server can expire the session, the lease reads invalid and its callbacks run;
 * the server then expires the session and grants the lock to the next waiter, whose token is
 * larger. If the packets flow again within the session, the old holder's node is deleted by its own
 * client, so it does not keep the lock that it was told it lost.
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
