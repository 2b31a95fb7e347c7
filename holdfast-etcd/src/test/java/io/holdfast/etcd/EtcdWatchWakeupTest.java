package io.holdfast.etcd;

import io.etcd.jetcd.Client;
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
 * Watches of etcd are woken by etcd watches ({@link EtcdWatches}), a session that expires included,
 * against a real etcd started by the test ({@link EtcdServer}).
 */
class EtcdWatchWakeupTest extends WatchWakeupContract {
    private static EtcdServer etcd;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdServer.startOrSkip();
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.stop();
        }
    }

    @Override
    protected Watcher watcher(ClientOptions options) {
        EtcdBackend backend = new EtcdBackend(
                Client.builder().endpoints("http://" + etcd.endpoint()).build(), EtcdUri.parse(etcd.uri()), options);
        return new Watcher(backend::awaitWatched, () -> backend.watches().watching(), backend::close);
    }

    @Override
    protected LockClient other(ClientOptions options) {
        return LockClient.open(etcd.uri(), options);
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
