package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.server.TestCluster;
import io.holdfast.server.TestHttp;
import io.holdfast.server.leadership.LeaseRefusals.Refused;
import io.holdfast.server.node.RaftLockService;
import io.holdfast.server.node.ServerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Each refusal of the leader's lease check is counted on {@code /metrics} and in the JSON API's
 * status, and logged in one WARN line at most once a second.
 */
class LeaseRefusalsTest {
    private ListAppender<ILoggingEvent> log;

    @BeforeEach
    void capture() {
        log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(LeaseRefusals.class)).addAppender(log);
    }

    @AfterEach
    void release() {
        ((Logger) LoggerFactory.getLogger(LeaseRefusals.class)).detachAppender(log);
    }

    /**
     * A leader whose followers stop answering still takes itself for the leader for up to an
     * election timeout, and refuses heartbeats meanwhile: the refusals show on its metrics, in its
     * JSON status, and in its log.
     */
    @Test
    void aLeaderThatLostItsMajorityCountsAndLogsEachRefusedHeartbeat() throws Exception {
        try (TestCluster cluster = TestCluster.withHttp(3, Duration.ofSeconds(3))) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(30));
            LockClient client = cluster.open(
                    ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build());
            String session = ((ClientRuntime) client).sessionId();
            RaftLockService service = cluster.node(leader).parts().service();
            TestHttp http = TestHttp.plain(cluster.node(leader).httpPort());
            String id = "n" + (leader + 1);
            String heartbeats = "holdfast_lease_check_refusals_total{node=\"" + id + "\",request=\"heartbeat\"}";
            assertThat(service.keepAlive(session).get(10, TimeUnit.SECONDS))
                    .as("with its followers")
                    .isEqualTo(io.holdfast.model.Reply.Ok.INSTANCE);
            assertThat(metric(http.get("/metrics").body(), heartbeats))
                    .as("listed from zero")
                    .isEqualTo(0);
            assertThat(http.get("/api/v1/status")
                            .json()
                            .get("leaseCheckRefusals")
                            .toString())
                    .isEqualTo("{\"read\":0,\"heartbeat\":0}");

            List<Thread> stopping = new ArrayList<>();
            for (int i = 0; i < cluster.size(); i++) {
                if (i != leader) {
                    int n = i;
                    Thread t = new Thread(() -> cluster.stop(n));
                    t.start();
                    stopping.add(t);
                }
            }
            await().atMost(Duration.ofSeconds(6))
                    .until(() -> !cluster.node(leader).parts().gateway().holdsLease());
            assertThatThrownBy(() -> service.keepAlive(session).get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(UnavailableException.class)
                    .hasMessageContaining("has not heard from a majority of its members within 2700 ms");

            // The client's own heartbeats may have been refused too: at least the one above.
            assertThat(metric(http.get("/metrics").body(), heartbeats)).isGreaterThanOrEqualTo(1);
            assertThat(http.get("/api/v1/status")
                            .json()
                            .get("leaseCheckRefusals")
                            .get("heartbeat")
                            .asLong())
                    .isGreaterThanOrEqualTo(1);
            assertThat(http.get("/status")
                            .json()
                            .get("leaseCheckRefusals")
                            .get("heartbeat")
                            .asLong())
                    .as("the unauthenticated status too")
                    .isGreaterThanOrEqualTo(1);
            List<String> lines = log.list.stream()
                    .filter(e -> e.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.startsWith("Node " + id + " refused a heartbeat"))
                    .toList();
            assertThat(lines).isNotEmpty();
            assertThat(lines.get(0))
                    .matches("Node " + id + " refused a heartbeat: a majority of its voters last answered it \\d+ ms"
                            + " ago, and its lease is 2700 ms.*")
                    .doesNotContain("\n");
            for (Thread t : stopping) {
                t.join();
            }
        }
    }

    /** A burst of refusals is counted whole and logged once a second, saying how many it left out. */
    @Test
    void refusalsAreAllCountedAndLoggedAtMostOnceASecond() {
        AtomicLong nanos = new AtomicLong(5_000_000_000L);
        LeaseRefusals refusals = new LeaseRefusals("n1", nanos::get);
        for (int i = 0; i < 5; i++) {
            refusals.refused(Refused.HEARTBEAT, 3100, 2700);
        }
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
        refusals.refused(Refused.READ, 3200, 2700);
        assertThat(refusals.counts()).isEqualTo(Map.of("heartbeat", 5L, "read", 1L));
        assertThat(messages())
                .containsExactly("Node n1 refused a heartbeat: a majority of its voters last answered it 3100 ms ago,"
                        + " and its lease is 2700 ms");

        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
        refusals.refused(Refused.READ, -1, 2700);
        assertThat(messages())
                .hasSize(2)
                .last()
                .isEqualTo("Node n1 refused a read: Ratis no longer counts it the leader, and its lease is 2700 ms"
                        + " (5 more refusals since the last such line were not logged)");
        assertThat(refusals.count(Refused.READ)).isEqualTo(2);

        MetricsLine scraped = new MetricsLine(refusals);
        assertThat(scraped.value("heartbeat")).isEqualTo(5);
        assertThat(scraped.value("read")).isEqualTo(2);
    }

    private List<String> messages() {
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** The counters as a node's {@code /metrics} shows them. */
    private record MetricsLine(String text) {
        MetricsLine(LeaseRefusals refusals) {
            this(scrape(refusals));
        }

        private static String scrape(LeaseRefusals refusals) {
            ServerMetrics metrics = new ServerMetrics("n1");
            metrics.leaseCheckRefusals(refusals);
            return metrics.scrape();
        }

        double value(String request) {
            return metric(text, "holdfast_lease_check_refusals_total{node=\"n1\",request=\"" + request + "\"}");
        }
    }

    /** The value of one series in Prometheus's text format; -1 when it is missing. */
    private static double metric(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return -1;
    }
}
