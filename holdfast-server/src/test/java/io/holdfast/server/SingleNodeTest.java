package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SingleNodeTest {
    @Test
    void grantsReleasesAndSurvivesARestartFromDisk() throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient a = cluster.open(ClientOptions.defaults());
            LockClient b = cluster.open(ClientOptions.defaults());
            Lease first = a.lock("orders/1").acquire(Duration.ofSeconds(5));
            CompletableFuture<Lease> second = b.lock("orders/1").acquireAsync(Duration.ofSeconds(10));
            assertThat(second).isNotDone();
            first.release();
            Lease granted = second.get(10, TimeUnit.SECONDS);
            assertThat(granted.fencingToken()).isGreaterThan(first.fencingToken());
            long token = granted.fencingToken();

            cluster.stop(0);
            cluster.start(0);
            cluster.awaitLeader(Duration.ofSeconds(20));
            // The grant survived the restart: the holder still holds, the token counter went on.
            assertThat(a.admin().isCurrentHolder("orders/1", token)).isTrue();
            Lease other = a.lock("orders/2").acquire(Duration.ofSeconds(5));
            assertThat(other.fencingToken()).isGreaterThan(token);
        }
    }
}
