package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.server.ScrapeTimeline.Frame;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.Restore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The alert rules and the dashboard the distribution ships ({@link MonitoringFiles}), against real
 * scrapes of {@code /metrics}. A three-node cluster is scraped right after its first grant (what a
 * cluster rebuilt empty at the same addresses shows), when healthy, and in each state an alert
 * describes: a client refused for its bad token again and again, a burst of sessions left to expire, backups into a directory that became a file, a
 * member stopped, the leader's lease lost, no leader; a one-node cluster restored from its backup
 * follows it. Each state's scrapes, after two minutes of the healthy ones, become promtool's input
 * series: each alert must fire in its state, and none on the healthy scrapes ({@code promtool test
 * rules}). Every expression must name only metrics those scrapes exposed. Needs promtool ({@link
 * Promtool}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HoldfastAlertsTest {
    private static final String JOB = "holdfast";
    private static final Duration ELECTION = Duration.ofSeconds(2);

    private Promtool promtool;
    private Path dir;
    private final Map<String, Frame> frames = new LinkedHashMap<>();
    private final List<String> allScrapes = new ArrayList<>();
    private String leaderId;
    private String stoppedId;

    @BeforeAll
    void driveAClusterThroughEachState() throws Exception {
        promtool = Promtool.orSkip();
        dir = Files.createTempDirectory("holdfast-alerts");
        Path backup = dir.resolve("old.hfbk");
        try (TestCluster c = TestCluster.withHttp(3, ELECTION)) {
            c.awaitLeader(Duration.ofSeconds(30));
            for (int i = 0; i < 3; i++) {
                c.node(i).scheduleBackups(Duration.ofMillis(200), dir.resolve("backups-" + i), 2);
            }
            LockClient client = c.open(
                    ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build());
            client.lock("m/busy").acquire(Duration.ofSeconds(10)).release();
            // A cluster that just granted its first token: what a cluster rebuilt empty at the same
            // addresses, instead of restored, shows after the one it replaced.
            frames.put("rebuilt", round(c, Set.of(), false));
            for (int i = 0; i < 5; i++) {
                client.lock("m/busy").acquire(Duration.ofSeconds(10)).release();
            }
            client.lock("m/held").acquire(Duration.ofSeconds(10));
            int leader = c.awaitLeader(Duration.ofSeconds(30));
            leaderId = "n" + (leader + 1);
            TestHttp http = TestHttp.plain(c.node(leader).httpPort());
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> value(http.get("/metrics").body(), "holdfast_backups_total", "written") >= 1);
            BackupRestoreTest.backUp(c, backup);
            // The table's gauges are read at most once a second (ServerMetrics): scrape until the
            // fencing token shows the grants since the first.
            double rebuiltToken = token(frames.get("rebuilt"));
            Frame[] healthy = new Frame[1];
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> token(healthy[0] = round(c, Set.of(), true)) > rebuiltToken);
            frames.put("healthy", healthy[0]);
            assertThat(token(frames.get("healthy")))
                    .as("the tokens rose since the first")
                    .isGreaterThan(token(frames.get("rebuilt")));

            // A client that keeps presenting a bearer token this cluster cannot accept (it has none).
            TestHttp badToken = TestHttp.plain(c.node(leader).httpPort()).withToken("not-a-token");
            for (int i = 0; i < 10; i++) {
                assertThat(badToken.get("/api/v1/whoami").status()).isEqualTo(401);
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> value(http.get("/metrics").body(), "holdfast_auth_failures_total", "bad-token") >= 10);
            frames.put("authFailing", round(c, Set.of(), true));

            // A burst of sessions whose heartbeats stop: one holding a lock, one timed out waiting.
            for (int i = 0; i < 12; i++) {
                String s = http.post("/api/v1/sessions", "{\"ttlMillis\":1000}")
                        .json()
                        .get("sessionId")
                        .asText();
                if (i == 0) {
                    http.post("/api/v1/acquire", "{\"session\":\"" + s + "\",\"name\":\"m/lost\"}");
                } else if (i == 1) {
                    http.post("/api/v1/acquire", "{\"session\":\"" + s + "\",\"name\":\"m/held\",\"waitMillis\":200}");
                }
            }
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> value(http.get("/metrics").body(), "holdfast_sessions_expired_total", "") >= 12);
            frames.put("expired", round(c, Set.of(), true));

            // The leader's backup directory becomes a file: its scheduled backups fail. The schedule
            // writes every 200 ms, into the directory while it is being emptied (a CI rehearsal's
            // delete met a new backup: DirectoryNotEmptyException) and may create it again: it is
            // moved away whole, until the file takes its place.
            Path mine = dir.resolve("backups-" + leader);
            java.util.concurrent.atomic.AtomicInteger moved = new java.util.concurrent.atomic.AtomicInteger();
            await().atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> {
                        if (Files.isDirectory(mine)) {
                            Files.move(mine, dir.resolve("backups-moved-" + moved.incrementAndGet()));
                        }
                        try {
                            Files.writeString(mine, "not a directory", java.nio.file.StandardOpenOption.CREATE_NEW);
                        } catch (java.io.IOException e) {
                            // the schedule made the directory again first: moved away on the next poll
                        }
                        return Files.isRegularFile(mine);
                    });
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> value(http.get("/metrics").body(), "holdfast_backups_total", "failed") >= 1);
            frames.put("backupsFailing", round(c, Set.of(), true));

            // A follower stops: the leader's last contact with it grows with the clock.
            int stopped = (leader + 1) % 3;
            stoppedId = "n" + (stopped + 1);
            c.kill(stopped);
            String contact =
                    "holdfast_raft_member_last_contact_seconds{member=\"" + stoppedId + "\",node=\"" + leaderId + "\"}";
            long beforeFirst = System.nanoTime();
            Map<String, Double> firstScrape =
                    ScrapeTimeline.samples(http.get("/metrics").body());
            assertThat(firstScrape)
                    .as("the leader's metrics list its last contact with each member")
                    .containsKey(contact);
            double first = firstScrape.get(contact);
            long afterFirst = System.nanoTime();
            Thread.sleep(1_000); // the measured interval itself, not a wait for something to happen
            long beforeSecond = System.nanoTime();
            Frame behind = round(c, Set.of(contact), true);
            long afterSecond = System.nanoTime();
            double second = ScrapeTimeline.samples(behind.scrapes().get(instance(c, leader)))
                    .get(contact);
            assertThat(second - first)
                    .as("the leader's last contact with a stopped member grows with the clock")
                    .isBetween((beforeSecond - afterFirst) / 1e9 - 0.1, (afterSecond - beforeFirst) / 1e9 + 0.1);
            frames.put("memberStopped", behind);

            // The other follower stops too: the leader refuses heartbeats, then stops leading.
            c.kill((leader + 2) % 3);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> !c.node(leader).parts().gateway().holdsLease());
            try {
                c.node(leader)
                        .parts()
                        .service()
                        .keepAlive(((ClientRuntime) client).sessionId())
                        .get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException refused) {
                // refused: counted below
            }
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> value(http.get("/metrics").body(), "holdfast_lease_check_refusals_total", "heartbeat")
                            >= 1);
            frames.put("leaseRefusing", round(c, Set.of(), false));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> value(http.get("/metrics").body(), "holdfast_raft_is_leader", "") == 0);
            frames.put("noLeader", round(c, Set.of(), false));
        }
        try (TestCluster restored = TestCluster.withHttp(1, Duration.ofMillis(400), 0)) {
            Restore.seed(BackupFile.read(backup), restored.config(0).dataDir(), 0);
            restored.start(0);
            frames.put("restored", lockedOnce(restored));
        }
    }

    @AfterAll
    void removeFiles() throws Exception {
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void theRulesPassPromtoolsCheck() throws Exception {
        Promtool.Run run = promtool.run("check", "rules", MonitoringFiles.RULES.toString());
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("SUCCESS: 7 rules found");
    }

    /** Each dashboard expression parses: promtool checks them as recording rules. */
    @Test
    void theDashboardsExpressionsParse() throws Exception {
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int n = 0;
        for (String expr : MonitoringFiles.dashboardExpressions()) {
            rules.append("      - record: dashboard_")
                    .append(n++)
                    .append("\n        expr: ")
                    .append(new ObjectMapper().writeValueAsString(expr))
                    .append('\n');
        }
        Path file = dir.resolve("dashboard-rules.yml");
        Files.writeString(file, rules);
        Promtool.Run run = promtool.run("check", "rules", file.toString());
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(n).isGreaterThan(20);
    }

    @Test
    void everyExpressionNamesOnlyMetricsTheServerExports() throws Exception {
        Set<String> exported = new TreeSet<>();
        allScrapes.forEach(s -> exported.addAll(ScrapeTimeline.names(s)));
        List<String> expressions = new ArrayList<>(MonitoringFiles.dashboardExpressions());
        MonitoringFiles.alerts().values().forEach(a -> expressions.add(a.expr()));
        Set<String> named = new TreeSet<>();
        for (String expr : expressions) {
            Set<String> names = MonitoringFiles.metricNames(expr);
            assertThat(names).as("the metrics of " + expr).isNotEmpty();
            named.addAll(names);
        }
        assertThat(exported).as("scraped").containsAll(named);
        assertThat(named)
                .as("the extraction finds these (not function or label names)")
                .contains(
                        "holdfast_raft_member_last_contact_seconds",
                        "holdfast_backups_total",
                        "holdfast_requests_seconds_bucket",
                        "jvm_memory_used_bytes")
                .doesNotContain("job", "le", "member", "max_over_time", "offset");
    }

    @Test
    void noAlertFiresOnAHealthyCluster() throws Exception {
        Map<String, List<Map<String, String>>> none = new LinkedHashMap<>();
        MonitoringFiles.alerts().keySet().forEach(alert -> none.put(alert, List.of()));
        expect(List.of(frames.get("healthy").lasting(30)), none);
    }

    @Test
    void noLeader() throws Exception {
        expect("HoldfastNoLeader", state("noLeader", 4), List.of(Map.of("job", JOB)));
    }

    @Test
    void leaseCheckRefusing() throws Exception {
        expect("HoldfastLeaseCheckRefusing", state("leaseRefusing", 2), List.of(Map.of("job", JOB, "node", leaderId)));
    }

    @Test
    void memberBehindForMoreThanAMinute() throws Exception {
        expect("HoldfastMemberBehind", state("memberStopped", 3), List.of());
        expect("HoldfastMemberBehind", state("memberStopped", 6), List.of(Map.of("job", JOB, "member", stoppedId)));
    }

    @Test
    void backupsFailing() throws Exception {
        expect("HoldfastBackupsFailing", state("backupsFailing", 2), List.of(Map.of("job", JOB)));
    }

    @Test
    void sessionsExpiringInABurst() throws Exception {
        expect("HoldfastSessionsExpiringInBurst", state("expired", 2), List.of(Map.of("job", JOB)));
    }

    @Test
    void authenticationFailing() throws Exception {
        expect(
                "HoldfastAuthenticationFailing",
                state("authFailing", 2),
                List.of(Map.of("job", JOB, "reason", "bad-token")));
    }

    @Test
    void fencingTokenNotRisingAcrossARestore() throws Exception {
        expect("HoldfastFencingTokenBelowPast", state("restored", 12), List.of());
        expect("HoldfastFencingTokenBelowPast", state("rebuilt", 12), List.of(Map.of("job", JOB)));
    }

    /** Two minutes of healthy scrapes, then {@code steps} steps of the state's. */
    private List<Frame> state(String name, int steps) {
        return List.of(frames.get("healthy").lasting(8), frames.get(name).lasting(steps));
    }

    /** Runs promtool's test of one alert at the end of the timeline, expecting exactly these alerts. */
    private void expect(String alert, List<Frame> timeline, List<Map<String, String>> labels) throws Exception {
        expect(timeline, Map.of(alert, labels));
    }

    /** Runs promtool's test of these alerts at the end of the timeline, expecting exactly these alerts of each. */
    private void expect(List<Frame> timeline, Map<String, List<Map<String, String>>> alerts) throws Exception {
        Map<String, MonitoringFiles.Alert> rules = MonitoringFiles.alerts();
        int steps = timeline.stream().mapToInt(Frame::steps).sum();
        List<Map<String, Object>> checks = new ArrayList<>();
        for (Map.Entry<String, List<Map<String, String>>> alert : alerts.entrySet()) {
            MonitoringFiles.Alert rule = rules.get(alert.getKey());
            List<Map<String, Object>> expected = new ArrayList<>();
            for (Map<String, String> l : alert.getValue()) {
                Map<String, String> all = new LinkedHashMap<>(l);
                all.putAll(rule.labels());
                expected.add(Map.of("exp_labels", all, "exp_annotations", rule.annotationsFor(all)));
            }
            checks.add(Map.of(
                    "eval_time",
                    (steps - 1) * ScrapeTimeline.STEP_SECONDS + "s",
                    "alertname",
                    alert.getKey(),
                    "exp_alerts",
                    expected));
        }
        Map<String, Object> test = Map.of(
                "interval",
                ScrapeTimeline.STEP_SECONDS + "s",
                "input_series",
                ScrapeTimeline.inputSeries(JOB, "holdfast_", timeline),
                "alert_rule_test",
                checks);
        Map<String, Object> file = Map.of(
                "rule_files", List.of(MonitoringFiles.RULES.toString()),
                "evaluation_interval", ScrapeTimeline.STEP_SECONDS + "s",
                "tests", List.of(test));
        Path path = Files.createTempFile(dir, "promtool-test-", ".json");
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(path.toFile(), file);
        Promtool.Run run = promtool.run("test", "rules", path.toString());
        assertThat(run.exitCode())
                .as("expected " + alerts + " (" + path + "):\n" + run.output())
                .isZero();
    }

    /**
     * One round of scrapes of every running node; when {@code settled}, one in which their applied
     * indexes agree and exactly one of them leads (a round that met the cluster between two
     * entries, or in an election, is taken again).
     */
    private Frame round(TestCluster c, Set<String> clock, boolean settled) {
        Map<String, String> scrapes = new LinkedHashMap<>();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            scrapes.clear();
            Set<Double> indexes = new HashSet<>();
            double leaders = 0;
            for (int i = 0; i < c.size(); i++) {
                if (c.node(i) != null) {
                    String text =
                            TestHttp.plain(c.node(i).httpPort()).get("/metrics").body();
                    scrapes.put(instance(c, i), text);
                    indexes.add(value(text, "holdfast_raft_applied_index", ""));
                    leaders += value(text, "holdfast_raft_is_leader", "");
                }
            }
            return !settled || (indexes.size() == 1 && leaders == 1);
        });
        allScrapes.addAll(scrapes.values());
        return new Frame(Map.copyOf(scrapes), 1, clock);
    }

    /** A one-node cluster's round of scrapes once it granted a lock. */
    private Frame lockedOnce(TestCluster c) {
        c.awaitLeader(Duration.ofSeconds(30));
        try {
            c.open(ClientOptions.defaults()).lock("m/new").acquire(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return round(c, Set.of(), true);
    }

    private static double token(Frame f) {
        return f.scrapes().values().stream()
                .mapToDouble(text -> value(text, "holdfast_fencing_token", ""))
                .max()
                .orElseThrow();
    }

    private static String instance(TestCluster c, int i) {
        return "127.0.0.1:" + c.node(i).httpPort();
    }

    /** The value of the first series of {@code metric} whose labels mention {@code label} ("" for any); -1 if none. */
    private static double value(String text, String metric, String label) {
        for (Map.Entry<String, Double> s : ScrapeTimeline.samples(text).entrySet()) {
            if (s.getKey().startsWith(metric + "{") && s.getKey().contains(label)) {
                return s.getValue();
            }
        }
        return -1;
    }
}
