package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * How long a snapshot took to write, which a node reports beside its size: nothing is applied while
 * it is written (the table is locked), so at a large table it is the stall an operator looks for.
 * The node's ticker is moved by a fixed step at each reading, so the time is known exactly.
 */
class SnapshotTimeTest {
    private static final long STEP_NANOS = 1_500_000_000L;

    @Test
    void aSnapshotsWriteTimeIsAMetricAndOnItsLogLine() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger hooks = (Logger) LoggerFactory.getLogger("io.holdfast.server.node.NodeHooks");
        hooks.addAppender(log);
        try (TestCluster cluster = new TestCluster(1)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient client = cluster.open(
                    ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build());
            for (int i = 0; i < 20; i++) {
                client.lock("snapshot-time/" + i).acquire(Duration.ofSeconds(5));
            }
            HoldfastServer node = cluster.node(0);
            AtomicLong now = new AtomicLong();
            node.parts().machine().setTicker(() -> now.getAndAdd(STEP_NANOS));

            long index = node.parts().machine().takeSnapshot();

            assertThat(index).isPositive();
            String metrics = node.parts().metrics().scrape();
            assertThat(metrics)
                    .contains("holdfast_snapshot_write_seconds_count{node=\"n1\"} 1")
                    .contains("holdfast_snapshot_write_seconds_sum{node=\"n1\"} 1.5")
                    .contains("holdfast_snapshot_bytes_count{node=\"n1\"} 1");
            assertThat(log.list)
                    .map(ILoggingEvent::getFormattedMessage)
                    .filteredOn(m -> m.contains("wrote a snapshot at log index " + index))
                    .singleElement()
                    .asString()
                    .matches("Node n1 wrote a snapshot at log index " + index + " \\(\\d+ bytes in 1500 ms\\)");
        } finally {
            hooks.detachAppender(log);
        }
    }
}
