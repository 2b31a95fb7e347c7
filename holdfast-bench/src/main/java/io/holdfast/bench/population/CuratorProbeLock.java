package io.holdfast.bench.population;

import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * The probe's lock on a ZooKeeper ensemble: Curator's {@link InterProcessMutex} on {@code /population/probe}, over a
 * Curator client of its own (session timeout: the population's TTL; retries as bench-peers' Curator driver: 100 ms
 * exponential back-off, 5 tries), as the ZooKeeper rows of the peers' benchmark take a lock.
 *
 * <p>Guaranteed: {@link #acquire} returns only once the mutex is held, and its release gives it back. Not
 * guaranteed: that a release during a failover reaches the ensemble (Curator throws; the loop counts an error and
 * the lock node goes with the session). Failure story: no server answers within 30 s; {@link #acquire} throws
 * IllegalStateException and the probe counts an error.
 */
final class CuratorProbeLock implements Probe.Lock {
    private final CuratorFramework client;
    private final InterProcessMutex mutex;

    /**
     * @param connect ZooKeeper's connection string ({@code host:port,host:port})
     * @param sessionTimeoutMillis the Curator client's session timeout
     */
    CuratorProbeLock(String connect, int sessionTimeoutMillis) {
        client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(sessionTimeoutMillis)
                .connectionTimeoutMs(15_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .build();
        client.start();
        mutex = new InterProcessMutex(client, "/population/probe");
    }

    @Override
    public Probe.Held acquire() throws Exception {
        if (!mutex.acquire(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the mutex was not taken within 30 s");
        }
        return mutex::release;
    }

    @Override
    public void close() {
        client.close();
    }
}
