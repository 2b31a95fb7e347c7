package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader whose process dies is replaced at once, not an election timeout later, and a leader
 * that is only silent is not (issue 55, the failover; the server's {@code DeadLeaderWatch}): three
 * real server processes with a 5 s election timeout, so that an election timeout alone puts the
 * next leader at least 5 s after the last heartbeat, and the watch's early election can be told
 * from it on a loaded machine.
 */
@EnabledOnOs(OS.LINUX)
class DeadLeaderElectionTest {
    private static final Duration ELECTION_TIMEOUT = Duration.ofSeconds(5);
    private static final String EARLY = "starts an election at once";

    @RegisterExtension
    final ServerProcesses.PerTest servers = new ServerProcesses.PerTest();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private ServerProcesses cluster() throws IOException {
        ServerProcesses cluster = servers.start(dir, 3, List.of("--election-timeout", "5s"));
        int leader = cluster.awaitLeader(Duration.ofSeconds(60));
        // Every follower knows the leader (so it holds its connection to it) before anything is done.
        await().atMost(Duration.ofSeconds(30)).until(() -> followersName(cluster, leader));
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
        assertThat(took).as("from the SIGKILL to a new leader, in ms").isLessThan(ELECTION_TIMEOUT.toMillis() / 2);
        assertThat(cluster.log(next)).contains(EARLY);
    }

    @Test
    void aStoppedLeaderIsNotTakenForDead() throws Exception {
        ServerProcesses cluster = cluster();
        int leader = cluster.leader();
        long pid = cluster.process(leader).pid();

        long stopped = System.nanoTime();
        signal("STOP", pid); // alive, and silent: its kernel still accepts connections
        try {
            int next = await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> otherLeader(cluster, leader), i -> i >= 0);
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
            System.out.printf("n%d stopped, n%d leads %d ms later%n", leader + 1, next + 1, took);
            // Its followers' last heartbeat came at most a heartbeat interval before the stop.
            assertThat(took)
                    .as("from the SIGSTOP to a new leader, in ms")
                    .isGreaterThan(ELECTION_TIMEOUT.toMillis() / 2);
            for (int i = 0; i < cluster.size(); i++) {
                assertThat(cluster.log(i)).as("n%d's log", i + 1).doesNotContain(EARLY);
            }
        } finally {
            signal("CONT", pid);
        }
    }

    /** Whether each live node but {@code leader} names it as leader in its {@code /status}. */
    private boolean followersName(ServerProcesses cluster, int leader) throws IOException, InterruptedException {
        for (int i = 0; i < cluster.size(); i++) {
            if (i != leader && !status(cluster, i).contains("\"leader\":\"n" + (leader + 1) + "\"")) {
                return false;
            }
        }
        return true;
    }

    /** A node other than {@code old} whose {@code /status} says it leads, or -1. */
    private int otherLeader(ServerProcesses cluster, int old) {
        for (int i = 0; i < cluster.size(); i++) {
            try {
                if (i != old && status(cluster, i).contains("\"role\":\"leader\"")) {
                    return i;
                }
            } catch (IOException e) {
                // not answering yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return -1;
    }

    private String status(ServerProcesses cluster, int i) throws IOException, InterruptedException {
        return http.send(
                        HttpRequest.newBuilder(URI.create(cluster.httpUrl(i) + "/status"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).isZero();
    }
}
