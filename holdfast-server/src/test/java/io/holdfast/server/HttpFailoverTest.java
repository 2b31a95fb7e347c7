package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Waits of HTTP clients across a change of leader, on three nodes in this JVM: a client that waits
 * for a lock gets its grant when the leadership moves (a transfer) or the leader dies: from the
 * member it sent the request to, if that member is still up (a leader that hands over keeps
 * serving it as a follower), else by sending the same request (the same request id) to another
 * member. Long ago, the old leader dropped the wait's subscription with its leadership and answered
 * {@code NOT_LEADER} only when the wait ran out (16.9 s of a 20 s wait, tried by hand), while the
 * table had granted the lock long before: the lock sat with a client that never knew it had it.
 */
class HttpFailoverTest {
    private TestCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(3, Set.of(), null, null, true);
        cluster.awaitLeader(Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    private TestHttp http(int node) {
        return TestHttp.plain(cluster.node(node).httpPort());
    }

    /** Sends a POST to the leader, again while there is none or the node asked is not it yet. */
    private TestHttp.Answer atLeader(String path, String body) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            TestHttp.Answer a = http(leader).post(path, body);
            if (a.status() != 503 || System.nanoTime() > deadline) {
                return a;
            }
            Awaitility.await().pollDelay(Duration.ofMillis(50)).until(() -> true);
        }
    }

    private String open(int node) throws Exception {
        TestHttp.Answer a = http(node).post("/api/v1/sessions", "{\"ttlMillis\":20000}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("sessionId").asText();
    }

    private static String acquireBody(String session, long requestId, String name, long waitMillis) {
        return "{\"session\":\"" + session + "\",\"requestId\":" + requestId + ",\"name\":\"" + name
                + "\",\"waitMillis\":" + waitMillis + "}";
    }

    private void awaitOneWaiter(int node, String name) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            JsonNode lock = http(node).get("/api/v1/locks/" + name).json().get("lock");
            return lock != null && lock.get("waiters").size() == 1;
        });
    }

    /** A lock held by one session at the leader and waited for by another. */
    private record Contest(String holder, long token, String waitBody, CompletableFuture<TestHttp.Answer> waiting) {}

    private Contest holdAndWait(int leader, String name, long waitMillis) throws Exception {
        String holder = open(leader);
        String waiter = open(leader);
        long token = http(leader)
                .post("/api/v1/acquire", acquireBody(holder, 1, name, 0))
                .json()
                .get("token")
                .asLong();
        String waitBody = acquireBody(waiter, 1, name, waitMillis);
        CompletableFuture<TestHttp.Answer> waiting = http(leader).postAsync("/api/v1/acquire", waitBody);
        awaitOneWaiter(leader, name);
        return new Contest(holder, token, waitBody, waiting);
    }

    /**
     * What the waiter's client does: take the answer of its request; if the node could not answer
     * it (not the leader, or gone), send the same request to the leader.
     */
    private TestHttp.Answer answerOrRetry(CompletableFuture<TestHttp.Answer> waiting, String body) throws Exception {
        TestHttp.Answer a;
        try {
            a = waiting.get(15, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException lost) {
            a = null; // the connection went with the node
        }
        if (a == null || a.status() == 503) {
            a = atLeader("/api/v1/acquire", body);
        }
        return a;
    }

    @Test
    void aWaitTakenAtTheLeaderIsGrantedAfterTheLeadershipMoves() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        Contest c = holdAndWait(leader, "fo/transfer", 20_000);
        String holder = c.holder();
        long token = c.token();
        String waitBody = c.waitBody();
        CompletableFuture<TestHttp.Answer> waiting = c.waiting();

        int target = (leader + 1) % 3;
        TestHttp.Answer moved =
                http(leader).post("/api/v1/members/transfer-leader", "{\"id\":\"n" + (target + 1) + "\"}");
        assertThat(moved.status()).as(moved.body()).isEqualTo(200);
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> cluster.leaderIndex() == target);

        long released = System.nanoTime();
        TestHttp.Answer release = atLeader(
                "/api/v1/release",
                "{\"session\":\"" + holder + "\",\"requestId\":2,\"name\":\"fo/transfer\",\"token\":" + token + "}");
        assertThat(release.status()).as(release.body()).isEqualTo(200);
        TestHttp.Answer granted = answerOrRetry(waiting, waitBody);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);

        assertThat(granted.status()).as(granted.body()).isEqualTo(200);
        long newToken = granted.json().get("token").asLong();
        assertThat(newToken).isGreaterThan(token);
        assertThat(millis)
                .as("answered soon after the release, not when the wait runs out")
                .isLessThan(5_000);
        assertThat(http(target)
                        .get("/api/v1/fence?name=fo/transfer&token=" + newToken)
                        .json()
                        .get("current")
                        .asBoolean())
                .isTrue();
        assertThat(http(target)
                        .get("/api/v1/locks/fo/transfer")
                        .json()
                        .get("lock")
                        .get("holders"))
                .hasSize(1);
    }

    @Test
    void aWaitOutlivesTheLeadersDeathAndIsGrantedByTheNewLeader() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        Contest c = holdAndWait(leader, "fo/death", 30_000);
        String holder = c.holder();
        long token = c.token();
        String waitBody = c.waitBody();
        CompletableFuture<TestHttp.Answer> waiting = c.waiting();

        cluster.stop(leader);
        // The client's request went with the node; it sends it again, to the new leader, where
        // the table still has it queued (same request id: not a second wait).
        CompletableFuture<TestHttp.Answer> again = CompletableFuture.supplyAsync(() -> {
            try {
                return answerOrRetry(waiting, waitBody);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        int newLeader = cluster.awaitLeader(Duration.ofSeconds(30));
        awaitOneWaiter(newLeader, "fo/death");
        long released = System.nanoTime();
        TestHttp.Answer release = atLeader(
                "/api/v1/release",
                "{\"session\":\"" + holder + "\",\"requestId\":2,\"name\":\"fo/death\",\"token\":" + token + "}");
        assertThat(release.status()).as(release.body()).isEqualTo(200);
        TestHttp.Answer granted = again.get(20, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
        assertThat(granted.status()).as(granted.body()).isEqualTo(200);
        assertThat(granted.json().get("token").asLong()).isGreaterThan(token);
        assertThat(millis).isLessThan(5_000);
        assertThat(http(cluster.leaderIndex())
                        .get("/api/v1/locks/fo/death")
                        .json()
                        .get("lock")
                        .get("holders"))
                .as("one grant: the retry did not queue a second wait")
                .hasSize(1);
    }

    /** Sends a POST to {@code node}, again while it answers 503 (an election is under way). */
    private TestHttp.Answer atNode(int node, String path, String body) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            TestHttp.Answer a = http(node).post(path, body);
            if (a.status() != 503 || System.nanoTime() > deadline) {
                return a;
            }
            Awaitility.await().pollDelay(Duration.ofMillis(50)).until(() -> true);
        }
    }

    /**
     * Every member serves HTTP clients (ADR 0003): a wait sent to a follower is answered there,
     * with the grant the next leader makes, though the leader it was forwarded to died meanwhile;
     * the client sends nothing again. (Before, a follower answered {@code NOT_LEADER} at once and
     * the client went to the leader.)
     */
    @Test
    void aWaitAtAFollowerIsAnsweredThereWhenTheLeaderDies() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        int home = (leader + 1) % 3;
        int other = (leader + 2) % 3;
        String holder = open(other);
        String waiter = open(home);
        TestHttp.Answer held = http(other).post("/api/v1/acquire", acquireBody(holder, 1, "fo/home", 0));
        assertThat(held.status()).as(held.body()).isEqualTo(200);
        long token = held.json().get("token").asLong();
        CompletableFuture<TestHttp.Answer> waiting =
                http(home).postAsync("/api/v1/acquire", acquireBody(waiter, 1, "fo/home", 30_000));
        awaitOneWaiter(home, "fo/home");

        cluster.stop(leader);
        cluster.awaitLeader(Duration.ofSeconds(30));
        TestHttp.Answer release = atNode(
                other,
                "/api/v1/release",
                "{\"session\":\"" + holder + "\",\"requestId\":2,\"name\":\"fo/home\",\"token\":" + token + "}");
        assertThat(release.status()).as(release.body()).isEqualTo(200);

        TestHttp.Answer granted = waiting.get(20, TimeUnit.SECONDS);
        assertThat(granted.status())
                .as("the follower it was sent to answers the wait: %s", granted.body())
                .isEqualTo(200);
        long newToken = granted.json().get("token").asLong();
        assertThat(newToken).isGreaterThan(token);
        assertThat(http(home)
                        .get("/api/v1/fence?name=fo/home&token=" + newToken)
                        .json()
                        .get("current")
                        .asBoolean())
                .as("a linearizable read at the same member")
                .isTrue();
    }

    /**
     * A client without request ids whose session moves between members: each member numbers its
     * requests from the cluster's time, so the numbers keep rising. (Numbered from where each
     * member's own count stood, the request back at the first member would be below what the
     * second had acknowledged: refused 400, "already acknowledged".)
     */
    @Test
    void requestsNumberedByTheMembersKeepRisingAsASessionMovesBetweenThem() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        int follower = (leader + 1) % 3;
        String session = open(follower);
        String noId = "{\"session\":\"" + session + "\",\"name\":\"%s\"}";
        TestHttp.Answer x = http(follower).post("/api/v1/acquire", noId.formatted("fo/x"));
        assertThat(x.status()).as(x.body()).isEqualTo(200);
        Awaitility.await().pollDelay(Duration.ofMillis(20)).until(() -> true); // the cluster's time moves on
        TestHttp.Answer y = http(leader).post("/api/v1/acquire", noId.formatted("fo/y"));
        assertThat(y.status()).as(y.body()).isEqualTo(200);
        Awaitility.await("the follower applied the acquire at the leader")
                .atMost(Duration.ofSeconds(10))
                .until(() -> http(follower).get("/api/v1/locks/fo/y").status() == 200);
        TestHttp.Answer back = http(follower)
                .post(
                        "/api/v1/release",
                        "{\"session\":\"" + session + "\",\"name\":\"fo/x\",\"token\":"
                                + x.json().get("token").asLong() + "}");
        assertThat(back.status()).as(back.body()).isEqualTo(200);
    }
}
