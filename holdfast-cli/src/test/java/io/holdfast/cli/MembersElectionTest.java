package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The membership commands wait through the elections they cause, within {@code --timeout}, on a
 * real three-node cluster: the commands that follow a transfer or the removal of the leader answer
 * as the new leader sees the members, with the exit code their outcome calls for (issue 51,
 * finding 3: they exited 69 during the election, and a transfer printed the old leader's table
 * with every other member "unknown").
 */
class MembersElectionTest {
    @TempDir
    Path dir;

    private LoopbackCluster cluster;
    private List<HoldfastServer> nodes;
    private StringWriter out;
    private StringWriter err;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(args);
    }

    @Test
    void aTransferPrintsTheMembersAsTheNewLeaderHasThem() throws Exception {
        String uri = startThree();
        String first = cluster.awaitLeader();
        Awaitility.await() // every member has heard from the leader: the transfer has a voter to go to
                .atMost(Duration.ofSeconds(30))
                .until(() ->
                        run("members", "--backend", uri) == 0 && !out.toString().contains("unknown"));

        assertThat(run("members", "transfer-leader", "--backend", uri))
                .as(err::toString)
                .isZero();
        String header = out.toString()
                .lines()
                .filter(l -> l.startsWith("answered by"))
                .findFirst()
                .orElseThrow();
        assertThat(header).doesNotStartWith("answered by " + first + " ").contains("(leader)");
        assertThat(out.toString()).doesNotContain("unknown");
    }

    @Test
    void theCommandsAfterTheLeadersRemovalWaitForTheElection() throws Exception {
        String uri = startThree();
        String leader = cluster.awaitLeader();

        assertThat(run("members", "remove", leader, "--backend", uri))
                .as(err::toString)
                .isZero();
        assertThat(run("members", "--backend", uri)).as(err::toString).isZero();
        assertThat(out.toString()).contains("(leader)").doesNotContain(leader + " ");
        assertThat(out.toString().lines().skip(2)).hasSize(2);

        assertThat(run("members", "remove", leader, "--backend", uri)).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains("no member has the id '" + leader + "'")
                .hasLineCount(1);
    }

    /**
     * Two of three members down, the leader among them: no quorum, so no leader serves. Each command started then waits,
     * and answers once a member is back and a leader serves again, with its own outcome.
     */
    @Test
    void commandsStartedWithoutAQuorumAnswerOnceItIsBack() throws Exception {
        String uri = startThree();
        String leader = cluster.awaitLeader();
        List<String> http = new ArrayList<>();
        nodes.forEach(n -> http.add("http://127.0.0.1:" + n.httpPort()));
        List<String> backup =
                new ArrayList<>(List.of("backup", "--out", dir.resolve("b.hfbk").toString()));
        http.forEach(h -> backup.addAll(List.of("--http", h)));
        // The leader and one follower go: the member left follows nobody, and no member serves.
        int gone = nodes.indexOf(nodes.stream()
                .filter(n -> n.config().nodeId().equals(leader))
                .findFirst()
                .orElseThrow());
        int alsoGone = (gone + 1) % 3;
        ServerConfig back = nodes.get(alsoGone).config();
        nodes.get(gone).close();
        nodes.get(alsoGone).close();
        HoldfastServer left = nodes.get((gone + 2) % 3);
        // A stopping leader hands its leadership over, maybe to the member left: it steps down once it
        // hears from no majority.
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !left.isLeader());

        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (List<String> command : List.of(
                List.of("members"),
                List.of("sessions"),
                List.of("sessions", "end", "NoSuchSessionAtAll0000"),
                List.of("revoke", "jobs/nightly"),
                backup)) {
            List<String> args = new ArrayList<>(command);
            args.addAll(List.of("--backend", uri)); // and the default --timeout, 30s
            answers.add(CompletableFuture.supplyAsync(() -> {
                StringWriter e = new StringWriter();
                int code = Main.commandLine(
                                new PrintWriter(new StringWriter(), true), new PrintWriter(e, true), Map.of())
                        .execute(args.toArray(new String[0]));
                return (command.get(0).equals("backup") ? "backup" : String.join(" ", command)) + " " + code
                        + (code == 0 ? "" : ": " + e.toString().strip());
            }));
        }
        Awaitility.await("every command waits through the outage") // each finds no leader meanwhile
                .during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(10))
                .until(() -> answers.stream().noneMatch(CompletableFuture::isDone));
        nodes.set(alsoGone, HoldfastServer.start(back));

        List<String> got = answers.stream().map(CompletableFuture::join).toList();
        assertThat(got)
                .as("exit codes")
                .containsAll(List.of("members 0", "sessions 0", "revoke jobs/nightly 0", "backup 0"))
                .anySatisfy(a -> assertThat(a).startsWith("sessions end NoSuchSessionAtAll0000 64: "));

        assertThat(run("members", "transfer-leader", "--backend", uri, "--timeout", "0s"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--timeout must be more than 0").hasLineCount(1);
    }

    /**
     * A leader that removes itself may stop before its answer leaves (a CI run, 2026-12-04: n1
     * logged its removal 0.6 s before it stopped); the command's call then goes on to the next
     * leader, which no longer has the member. The removal is made, and the command says so, not "no
     * member has the id" with exit code 64. Here a proxy in front of the leader loses the answer. An
     * id that never was a member's still gets that line.
     */
    @Test
    void aRemovalWhoseAnswerIsLostIsReportedDone() throws Exception {
        startThree();
        String leader = cluster.awaitLeader();
        try (AnswerLosingProxy proxy =
                new AnswerLosingProxy(cluster.clientAddress(leader), "holdfast.v1.Holdfast/ChangeMembers")) {
            List<String> addresses = new ArrayList<>(List.of(proxy.address()));
            for (String id : List.of("n1", "n2", "n3")) {
                if (!id.equals(leader)) {
                    addresses.add(cluster.clientAddress(id));
                }
            }
            String uri = "holdfast://" + String.join(",", addresses);

            assertThat(run("members", "remove", leader, "--backend", uri))
                    .as(err::toString)
                    .isZero();
            assertThat(proxy.lost()).as("answers lost").isPositive();
            assertThat(out.toString()).startsWith("Done: remove " + leader);
            assertThat(out.toString().lines().skip(3)).as(out::toString).hasSize(2);
        }
        assertThat(run("members", "remove", "n9", "--backend", cluster.uri())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("no member has the id 'n9'").hasLineCount(1);
    }

    /** Starts n1, n2 and n3; returns the URI that names their client ports. */
    private String startThree() throws Exception {
        cluster = new LoopbackCluster(dir);
        nodes = cluster.nodes();
        return cluster.uri();
    }
}
