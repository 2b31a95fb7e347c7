package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.HoldfastException;
import io.holdfast.KeyEntry;
import io.holdfast.LockClient;
import io.holdfast.Ticker;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.internal.PollingFeed;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The polling watch of keys ({@link PollingFeed}), what providers with keys but without a record of
 * changes give: the keys under the prefix, then each write and deletion as two reads differ.
 */
class PollingKeysTest {
    @Test
    void aPollingWatchOfKeysReportsTheStateThenWritesAndDeletions() throws Exception {
        BlockingQueue<WatchEvent> seen = new LinkedBlockingQueue<>();
        WatchListener listener = new WatchListener() {
            @Override
            public void onEvent(WatchEvent event) {
                seen.add(event);
            }

            @Override
            public void onEnd(HoldfastException cause) {}
        };
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        try (LockClient client = LockClient.open("mem:polling-keys")) {
            client.keys().put("cfg/a", "1".getBytes(StandardCharsets.UTF_8));
            try (Watch ignored = PollingFeed.watch(
                    client,
                    WatchTarget.keys("cfg/"),
                    listener,
                    PollingFeed.Wakeup.SLEEP,
                    Ticker.system(),
                    DaemonThreads.threadPerTask("polling-keys"),
                    timers)) {
                WatchEvent state = seen.poll(5, TimeUnit.SECONDS);
                assertThat(state.type()).isEqualTo(WatchEvent.Type.STATE);
                assertThat(state.keys()).extracting(KeyEntry::key).containsExactly("cfg/a");

                client.keys().put("cfg/b", "2".getBytes(StandardCharsets.UTF_8));
                WatchEvent set = seen.poll(5, TimeUnit.SECONDS);
                assertThat(set.type()).isEqualTo(WatchEvent.Type.REGISTER_SET);
                assertThat(set.name()).isEqualTo("cfg/b");
                assertThat(set.version()).isEqualTo(1);

                client.keys().delete("cfg/a");
                WatchEvent deleted = seen.poll(5, TimeUnit.SECONDS);
                assertThat(deleted.type()).isEqualTo(WatchEvent.Type.REGISTER_DELETED);
                assertThat(deleted.name()).isEqualTo("cfg/a");
                assertThat(deleted.cause()).isEqualTo(WatchEvent.Cause.UNKNOWN);
            }
        } finally {
            timers.shutdownNow();
        }
    }
}
