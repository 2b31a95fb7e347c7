package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.node.GrantWithoutQuorum;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Planted bugs in the server: the leader path of grant-without-quorum, and that {@link
 * HoldfastServer#start(ServerConfig, Set)} hands the set to the table of every node (also after a
 * restart from a snapshot), while {@link HoldfastServer#start(ServerConfig)} plants nothing.
 */
class PlantedBugServerTest {
    private static final String S1 = "session-one-0123456789";
    private static final String S2 = "session-two-0123456789";

    private static Command.Acquire acquire(String session, long seq, String name) {
        return new Command.Acquire(new Invocation(session, seq, 0), name, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0);
    }

    /** As the leader proposes it: in its envelope. */
    private static Command.Envelope stamped(Command command) {
        return Command.Envelope.of(0, command);
    }

    // ------------------------------------------------------------------ grant-without-quorum, focused

    /** A leader whose log never commits (cut off from the majority): proposals stay pending. */
    private static final class IsolatedLog implements Function<Command.Envelope, CompletableFuture<Reply>> {
        final List<Command.Envelope> proposed = new ArrayList<>();

        @Override
        public CompletableFuture<Reply> apply(Command.Envelope c) {
            proposed.add(c);
            return new CompletableFuture<>();
        }
    }

    private static LockTable tableWithTwoSessions() {
        LockTable table = new LockTable();
        for (String s : List.of(S1, S2)) {
            assertThat(table.apply(1_000, new Command.OpenSession(s, "c", 10_000, 0), e -> {}))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
        return table;
    }

    @Test
    void withoutQuorumAnIsolatedLeaderGrantsAFreeLockTwice() {
        LockTable table = tableWithTwoSessions();
        IsolatedLog log = new IsolatedLog();
        Function<Function<LockTable, Reply>, Reply> read = f -> f.apply(table);

        // The correct path: the acquire waits for the log, which never commits.
        CompletableFuture<Reply> correct = log.apply(stamped(acquire(S1, 1, "x")));
        assertThat(correct).isNotDone();

        GrantWithoutQuorum planted = new GrantWithoutQuorum(log);
        CompletableFuture<Reply> first = planted.submit(stamped(acquire(S1, 2, "x")), read);
        CompletableFuture<Reply> second = planted.submit(stamped(acquire(S2, 1, "x")), read);

        assertThat(first).isCompletedWithValue(new Reply.Granted(1));
        assertThat(second).as("a second session gets the same lock").isCompletedWithValue(new Reply.Granted(2));
        assertThat(log.proposed)
                .as("both still went to the log, in the background")
                .hasSize(3);
    }

    @Test
    void withoutQuorumALockThatLooksHeldOrAnUnknownSessionGoesThroughTheLog() {
        LockTable table = tableWithTwoSessions();
        Reply held = table.apply(
                1_000, new Command.Acquire(new Invocation(S1, 1, 0), "x", LockMode.EXCLUSIVE, 1, 1, 1, 0, 0), e -> {});
        assertThat(held).isInstanceOf(Reply.Granted.class);
        IsolatedLog log = new IsolatedLog();
        GrantWithoutQuorum planted = new GrantWithoutQuorum(log);
        Function<Function<LockTable, Reply>, Reply> read = f -> f.apply(table);

        assertThat(planted.submit(stamped(acquire(S2, 1, "x")), read)).isNotDone();
        assertThat(planted.submit(stamped(acquire("session-unknown-012345", 1, "y")), read))
                .isNotDone();
        assertThat(planted.submit(stamped(new Command.Release(new Invocation(S1, 2, 0), "x", 1)), read))
                .isNotDone();
        assertThat(log.proposed).hasSize(3);
    }

    // ------------------------------------------------------------------ through HoldfastServer

    private static Reply call(LockService service, Command c) throws Exception {
        return service.submit(c).get(10, TimeUnit.SECONDS);
    }

    private static LockService openTwoSessions(TestCluster cluster) throws Exception {
        LockService service =
                cluster.node(cluster.awaitLeader(Duration.ofSeconds(20))).lockService();
        for (String s : List.of(S1, S2)) {
            assertThat(call(service, new Command.OpenSession(s, "c", 30_000, 0)))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
        return service;
    }

    @Test
    void aCorrectServerRefusesAnotherSessionsRelease() throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            LockService service = openTwoSessions(cluster);
            Reply.Granted g = (Reply.Granted) call(service, acquire(S1, 1, "x"));

            Reply other = call(service, new Command.Release(new Invocation(S2, 1, 0), "x", g.token()));

            assertThat(other)
                    .isInstanceOfSatisfying(
                            Reply.Failed.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.NOT_OWNER));
        }
    }

    @Test
    void theNodesTablesGetThePlantedBugsAlsoAfterARestartFromASnapshot() throws Exception {
        try (TestCluster cluster =
                new TestCluster(1, EnumSet.of(PlantedBug.RELEASE_BY_ANYONE, PlantedBug.TOKEN_FROM_TERM))) {
            LockService service = openTwoSessions(cluster);
            long term = cluster.node(0).status().term();
            Reply.Granted x = (Reply.Granted) call(service, acquire(S1, 1, "x"));
            Reply.Granted y = (Reply.Granted) call(service, acquire(S2, 1, "y"));
            assertThat(x.token()).as("token-from-term").isEqualTo(term).isEqualTo(y.token());
            assertThat(call(service, new Command.Release(new Invocation(S2, 2, 0), "x", x.token())))
                    .as("release-by-anyone")
                    .isEqualTo(new Reply.Ok(0));

            cluster.node(0).parts().machine().takeSnapshot();
            cluster.stop(0);
            cluster.start(0);
            service = cluster.node(cluster.awaitLeader(Duration.ofSeconds(20))).lockService();

            assertThat(call(service, new Command.Release(new Invocation(S1, 2, 0), "y", y.token())))
                    .as("release-by-anyone after the restart")
                    .isEqualTo(new Reply.Ok(0));
        }
    }

    @Test
    void withoutQuorumTheLeaderAnswersAFreeAcquireBeforeTheLogDoes() throws Exception {
        try (TestCluster cluster = new TestCluster(1, EnumSet.of(PlantedBug.GRANT_WITHOUT_QUORUM))) {
            LockService service = openTwoSessions(cluster);

            CompletableFuture<Reply> reply = service.submit(acquire(S1, 1, "x"));

            // Answered in the call itself: no log round trip can have happened yet.
            assertThat(reply).isCompletedWithValueMatching(r -> r instanceof Reply.Granted);
            org.awaitility.Awaitility.await("the background apply")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> service.describe("x").get(10, TimeUnit.SECONDS).isPresent());
        }
    }
}
