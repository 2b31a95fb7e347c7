package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast members add/transfer-leader/remove} as an operator uses them: a node started
 * alone grows into two, hands its leadership to the new member and leaves, and the lock held all
 * along is still held; refusals are one line with their exit code.
 */
class MembersChangeCommandTest {
    @TempDir
    Path dir;

    private StringWriter out;
    private StringWriter err;

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(args);
    }

    @Test
    void aNodeGrowsIntoTwoHandsOverAndLeaves() throws Exception {
        ServerConfig.Peer p1 = new ServerConfig.Peer("127.0.0.1", freePort(), freePort());
        ServerConfig.Peer p2 = new ServerConfig.Peer("127.0.0.1", freePort(), freePort());
        Map<String, ServerConfig.Peer> both = new LinkedHashMap<>();
        both.put("n1", p1);
        both.put("n2", p2);
        String uri = "holdfast://" + p1.clientAddress() + "," + p2.clientAddress();
        try (HoldfastServer n1 = HoldfastServer.start(config("n1", Map.of("n1", p1)));
                HoldfastServer n2 = HoldfastServer.start(config("n2", both));
                LockClient client = LockClient.open(uri)) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(n1::isLeader);
            Lease held = client.lock("cli/members").acquire(Duration.ofSeconds(5));

            assertThat(run("members", "add", "n2=" + p2.raftAddress() + ":" + p2.clientPort(), "--backend", uri))
                    .as(err::toString)
                    .isZero();
            assertThat(out.toString()).contains("Done: add n2").contains("n2").contains(p2.clientAddress());

            assertThat(run("members", "transfer-leader", "n2", "--backend", uri))
                    .as(err::toString)
                    .isZero();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(n2::isLeader);

            assertThat(run("members", "remove", "n1", "--backend", uri))
                    .as(err::toString)
                    .isZero();
            assertThat(run("members", "--backend", "holdfast://" + p2.clientAddress()))
                    .isZero();
            List<String> rows = out.toString().lines().skip(2).toList();
            assertThat(rows).hasSize(1);
            assertThat(rows.get(0)).startsWith("n2 *").contains("leader");

            assertThat(client.admin().isCurrentHolder("cli/members", held.fencingToken()))
                    .isTrue();

            // Refusals: one line each, with the exit code that says what kind.
            assertThat(run("members", "add", "n3=nowhere", "--backend", uri)).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("bad peer 'n3=nowhere'").hasLineCount(1);
            assertThat(run("members", "remove", "n9", "--backend", uri)).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("no member has the id 'n9'").hasLineCount(1);
            assertThat(run("members", "remove", "n2", "--backend", uri)).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("last voter").hasLineCount(1);
            // A new member that does not answer: one line naming its address, no Ratis internals; the
            // leader logs one line for it, without a stack trace.
            int silent = freePort();
            ch.qos.logback.classic.Logger membership = (ch.qos.logback.classic.Logger)
                    org.slf4j.LoggerFactory.getLogger("io.holdfast.server.membership.Membership");
            ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                    new ch.qos.logback.core.read.ListAppender<>();
            logged.start();
            membership.addAppender(logged);
            ch.qos.logback.classic.Level was = membership.getLevel();
            membership.setLevel(ch.qos.logback.classic.Level.INFO);
            String voterError;
            try {
                // As a learner, the leader stages it at once (a learner is version-checked when promoted).
                assertThat(run("members", "add", "n7=127.0.0.1:" + silent, "--learner", "--backend", uri))
                        .isEqualTo(ExitCodes.NOT_ACQUIRED);
                assertThat(err.toString())
                        .contains("could not add n7: no answer from 127.0.0.1:" + silent)
                        .contains("the members are as they were")
                        .doesNotContain("NOPROGRESS")
                        .doesNotContain("ConfigurationStagingState")
                        .hasLineCount(1);
                // As a voter, the leader first waits for its version report (VersionAdmission).
                assertThat(run("members", "add", "n7=127.0.0.1:" + silent, "--backend", uri))
                        .isEqualTo(ExitCodes.NOT_ACQUIRED);
                voterError = err.toString();
            } finally {
                membership.detachAppender(logged);
                membership.setLevel(was);
            }
            assertThat(voterError.split("could not add n7", -1))
                    .as("the change named once: %s", voterError)
                    .hasSize(2);
            assertThat(voterError.split("the members are as they were", -1)).hasSize(2);
            assertThat(voterError)
                    .contains("could not add n7")
                    .contains("127.0.0.1:" + silent)
                    .contains("n7 has not answered within")
                    .contains("the members are as they were")
                    .hasLineCount(1);
            assertThat(logged.list)
                    .filteredOn(e -> e.getFormattedMessage().matches("Could not add (learner )?n7 .*"))
                    .hasSize(2)
                    .allSatisfy(e -> assertThat(e.getThrowableProxy()).isNull())
                    .allSatisfy(e -> assertThat(e.getFormattedMessage()).contains("127.0.0.1:" + silent));
        }
    }

    private static int freePort() throws java.io.IOException {
        return io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
    }

    private ServerConfig config(String id, Map<String, ServerConfig.Peer> peers) {
        return new ServerConfig(
                id, peers, dir.resolve(id), "127.0.0.1", peers.get(id).clientPort(), -1, true, Duration.ofMillis(300));
    }
}
