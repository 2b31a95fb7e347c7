package io.holdfast.zookeeper;

import org.apache.curator.ensemble.EnsembleProvider;

/**
 * The servers Curator connects to, which a simulated crash can point at a dead address so that no
 * new connection reaches the real ones (see {@link ZooKeeperBackend#abandon()}).
 */
final class Ensemble implements EnsembleProvider {
    /** Nothing listens on port 1 of the loopback address: connecting there fails at once. */
    static final String NOWHERE = "127.0.0.1:1";

    private volatile String connectString;

    Ensemble(String connectString) {
        this.connectString = connectString;
    }

    void cutOff() {
        connectString = NOWHERE;
    }

    @Override
    public void start() {}

    @Override
    public String getConnectionString() {
        return connectString;
    }

    @Override
    public void close() {}

    @Override
    public void setConnectionString(String connectString) {
        // the ensemble tracker is off; the servers come from the URI only
    }

    @Override
    public boolean updateServerListEnabled() {
        return false;
    }
}
