package io.holdfast.zookeeper;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.store.WatchSubscriptions;
import io.holdfast.testkit.WatchWakeupContract;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Watches of ZooKeeper are woken by persistent ZooKeeper watches ({@link ZooKeeperWatches}), a
 * session that expires included, against an in-process ZooKeeper server ({@link
 * ZooKeeperTestServer}).
 */
class ZooKeeperWatchWakeupTest extends WatchWakeupContract {
    private static ZooKeeperTestServer zookeeper;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zookeeper = ZooKeeperTestServer.start();
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zookeeper.close();
    }

    @Override
    protected Watcher watcher(ClientOptions options) {
        ZooKeeperBackend backend = ZooKeeperBackend.connect(ZooKeeperUri.parse(zookeeper.uri()), options);
        return new Watcher(backend::awaitWatched, () -> backend.watches().watching(), backend::close);
    }

    @Override
    protected LockClient other(ClientOptions options) {
        return LockClient.open(zookeeper.uri(), options);
    }

    @Override
    protected void crash(LockClient client) {
        io.holdfast.internal.CrashSimulation.crash(client);
    }

    @Override
    protected Set<Wakes> wakes() {
        return EnumSet.allOf(Wakes.class);
    }

    @Override
    protected Duration idle() {
        return WatchSubscriptions.IDLE;
    }
}
