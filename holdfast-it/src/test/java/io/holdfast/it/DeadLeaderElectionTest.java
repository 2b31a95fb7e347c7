package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader whose process dies is replaced at once, not an election timeout later, and a leader
 * that is only silent is not (issue 55, the failover; the server's {@code DeadLeaderWatch}): three
 * real server processes with an 8 s election timeout, so that an election timeout alone puts the
 * next leader at least 8 s after the last heartbeat, and the watch's early election can be told
 * from it on a loaded machine.
 */
@EnabledOnOs(OS.LINUX)
class DeadLeaderElectionTest {
    private static final Duration ELECTION_TIMEOUT = Duration.ofSeconds(8);
    private static final String EARLY = "starts an election at once";

    @RegisterExtension
    final ServerProcesses.PerTest servers = new ServerProcesses.PerTest();

    @TempDir
    Path dir;

    private ServerProcesses cluster() throws IOException {
        ServerProcesses cluster = servers.start(dir, 3, List.of("--election-timeout", "8s"));
        int leader = cluster.awaitLeader(Duration.ofSeconds(60));
        // Every follower knows the leader (so it holds its connection to it) before anything is done.
        // A follower's HTTP port may not be open yet when the leader is known (refused: ask again).
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> followersName(cluster, leader));
        return cluster;
    }

    @Test
    void aKilledLeaderIsReplacedWellWithinAnElectionTimeout() throws Exception {
        ServerProcesses cluster = cluster();
        int leader = cluster.leader();

        long killed = System.nanoTime();
        cluster.kill(leader);
        int next = cluster.awaitLeader(Duration.ofSeconds(60));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);

        System.out.printf(
                "n%d killed, n%d leads %d ms later (election timeout %d ms)%n",
                leader + 1, next + 1, took, ELECTION_TIMEOUT.toMillis());
        // The log says the early path was taken; the time bounds it: without the watch nobody campaigns
        // before a whole election timeout. Three quarters of one, as below: at load 25-40 (CI rehearsal
        // ci12, 2026-11-30) the early path took 4,005 ms, past the half it was held to.
        assertThat(took).as("from the SIGKILL to a new leader, in ms").isLessThan(ELECTION_TIMEOUT.toMillis() * 3 / 4);
        // Every JVM here is younger than a minute: the follower that equal logs give the election to
        // asks the other to campaign in its place (Candidacy's young rule), which it does at once. Not
        // the tie's wait: that one's log says "since nobody else did", and fails this.
        String handedTo = "asked n" + (next + 1) + " to campaign in its place: it starts an election at once";
        boolean handed = false;
        for (int i = 0; i < 3; i++) {
            handed |= i != leader && i != next && cluster.log(i).contains(handedTo);
        }
        assertThat(handed || cluster.log(next).contains(EARLY))
                .as(
                        "n%d campaigned at once, asked by the other follower or by itself; its log:%n%s",
                        next + 1, cluster.log(next))
                .isTrue();
    }

    @Test
    void whenTheFollowerFirstByIdDoesNotCampaignTheOtherDoesAfterAShortWait() throws Exception {
        ServerProcesses cluster = cluster();
        int leader = cluster.leader();
        // The follower that equal logs give the election to (first by id) is restarted without the
        // watch: it sees the leader die only by its election timeout, as one whose connection went
        // through a path that stays silent, or one still applying its log, would not campaign.
        int first = leader == 0 ? 1 : 0;
        int other = 3 - leader - first;
        cluster.kill(first);
        cluster.start(first, List.of("-Dholdfast.raft.deadLeaderWatch=false"));
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> followersName(cluster, leader));
        // Equal logs before the kill: the restarted follower writes an entry of its own (its protocol
        // version); killed while that entry was on its way, the leader left it with the other
        // follower alone, whose log was then further and which campaigned at once, as it should (CI
        // rehearsal of 2026-11-29, 19:27): not the case this test is for.
        // What it reports is what the table does not hold yet: its protocol version, its HTTP port, both
        // or neither (the same build restarted on the same ports reports nothing; CI rehearsal ci35 saw
        // a restart that reported its HTTP port alone). So: its report, or 5 s of nothing due, then
        // every node at the same applied index.
        long restarted = System.nanoTime();
        AtomicReference<String> lastApplied = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .until(() -> (sinceLastStart(cluster.log(first)).contains(" to the cluster")
                                || System.nanoTime() - restarted > TimeUnit.SECONDS.toNanos(5))
                        && sameAppliedTwice(cluster, lastApplied));

        long killed = System.nanoTime();
        cluster.kill(leader);
        int next = cluster.awaitLeader(Duration.ofSeconds(60));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);

        System.out.printf(
                "n%d killed, n%d without the watch, n%d leads %d ms later (election timeout %d ms)%n",
                leader + 1, first + 1, next + 1, took, ELECTION_TIMEOUT.toMillis());
        assertThat(cluster.log(other))
                .as("n%d's log", other + 1)
                .contains("leaves the election to n" + (first + 1) + ", whose log is as far")
                .contains("starts an election since nobody else did");
        assertThat(next).isEqualTo(other);
        // The wait, a second ask and an election on top of the death's discovery: on a loaded machine
        // (CI) 4.0 s was seen. Without the watch nobody campaigns before a whole election timeout.
        assertThat(took).as("from the SIGKILL to a new leader, in ms").isLessThan(ELECTION_TIMEOUT.toMillis() * 3 / 4);
    }

    @Test
    void aStoppedLeaderIsNotTakenForDead() throws Exception {
        ServerProcesses cluster = cluster();
        int leader = cluster.leader();
        long pid = cluster.process(leader).pid();

        signal("STOP", pid); // alive, and silent: its kernel still accepts connections
        try {
            // A killed leader is replaced within a second or two; a stopped one is not replaced for
            // half an election timeout (nor, by Raft's timer, for a whole one).
            await().during(ELECTION_TIMEOUT.dividedBy(2))
                    .atMost(ELECTION_TIMEOUT.dividedBy(2).plusSeconds(10))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> cluster.leaderOtherThan(leader) < 0);
            for (int i = 0; i < cluster.size(); i++) {
                assertThat(cluster.log(i)).as("n%d's log", i + 1).doesNotContain(EARLY);
            }
        } finally {
            signal("CONT", pid);
        }
    }

    /** A node's log from its last start on. */
    private static String sinceLastStart(String log) {
        int at = log.lastIndexOf(" started: Raft on ");
        return at < 0 ? "" : log.substring(at);
    }

    /**
     * Whether every node has applied the same index, the same as at the previous poll (kept in
     * {@code last}, polls 200 ms apart): nothing in flight.
     */
    private static boolean sameAppliedTwice(ServerProcesses cluster, AtomicReference<String> last)
            throws IOException, InterruptedException {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < cluster.size(); i++) {
            java.util.regex.Matcher m =
                    java.util.regex.Pattern.compile("\"appliedIndex\":(\\d+)").matcher(cluster.status(i));
            if (!m.find()) {
                last.set(null);
                return false;
            }
            seen.add(m.group(1));
        }
        String now = seen.size() == 1 ? seen.iterator().next() : null;
        return now != null && now.equals(last.getAndSet(now));
    }

    /** Whether each live node but {@code leader} names it as leader in its {@code /status}. */
    private boolean followersName(ServerProcesses cluster, int leader) throws IOException, InterruptedException {
        for (int i = 0; i < cluster.size(); i++) {
            if (i != leader && !cluster.status(i).contains("\"leader\":\"n" + (leader + 1) + "\"")) {
                return false;
            }
        }
        return true;
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).isZero();
    }
}
