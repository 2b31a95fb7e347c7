package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
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
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast sessions}, {@code members}, {@code revoke} and {@code locks --json} against a real
 * server node on loopback, with real clients holding and waiting.
 */
class OperatorCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static HoldfastServer server;
    private static String uri;
    private static LockClient ann;
    private static LockClient ben;

    private StringWriter out;
    private StringWriter err;

    @BeforeAll
    static void start() throws Exception {
        server = HoldfastServer.start(ServerConfig.single(dir, "127.0.0.1", freePort(), freePort(), -1));
        uri = "holdfast://127.0.0.1:" + server.clientPort();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(server::isLeader);
        ann = LockClient.open(
                uri, ClientOptions.builder().clientName("ann@host-a:1").build());
        ben = LockClient.open(
                uri, ClientOptions.builder().clientName("ben@host-b:2").build());
    }

    @AfterAll
    static void stop() {
        ben.close();
        ann.close();
        server.close();
    }

    private static int freePort() throws Exception {
        return io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
    }

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.contains("--backend")) {
            all.addAll(List.of("--backend", uri));
        }
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(all.toArray(String[]::new));
    }

    @Test
    void sessionsShowEveryClientWithItsHostTtlLeftAndHolds() throws Exception {
        Lease held = ann.lock("ops/sessions").acquire(Duration.ofSeconds(5));
        assertThat(run("sessions")).as(err::toString).isZero();
        List<String> lines = out.toString().lines().toList();
        assertThat(lines.get(0)).startsWith("SESSION").contains("CLIENT", "HOST", "TTL LEFT", "HOLDS");
        assertThat(lines)
                .anyMatch(l -> l.startsWith(ann.sessionId()) && l.contains("ann@host-a:1") && l.contains("host-a"));
        assertThat(lines).anyMatch(l -> l.startsWith(ben.sessionId()) && l.contains("host-b"));

        assertThat(run("sessions", "--json")).as(err::toString).isZero();
        JsonNode annsSession = null;
        for (JsonNode s : JSON.readTree(out.toString())) {
            if (s.get("id").asText().equals(ann.sessionId())) {
                annsSession = s;
            }
        }
        assertThat(annsSession).isNotNull();
        assertThat(annsSession.get("holds").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(annsSession.get("ttlLeftMillis").asLong()).isPositive();
        assertThat(annsSession.get("host").asText()).isEqualTo("host-a");

        assertThat(run("sessions", "--limit", "1")).isZero();
        assertThat(out.toString()).contains("(the first 1; --limit shows more)");
        held.release();
    }

    @Test
    void membersShowTheLeader() throws Exception {
        assertThat(run("members")).as(err::toString).isZero();
        assertThat(out.toString())
                .contains("answered by n1 (leader)")
                .contains("leader: n1")
                .contains("n1 *")
                .contains("127.0.0.1:" + server.clientPort());
        assertThat(run("members", "--json")).isZero();
        JsonNode cluster = JSON.readTree(out.toString());
        assertThat(cluster.get("role").asText()).isEqualTo("leader");
        assertThat(cluster.get("members").get(0).get("self").asBoolean()).isTrue();
    }

    @Test
    void locksAsJsonHaveTheHttpApisShape() throws Exception {
        Lease held = ann.lock("ops/json").acquire(Duration.ofSeconds(5));
        CompletableFuture<Lease> waiting = ben.lock("ops/json").acquireAsync(Duration.ofSeconds(30));
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() ->
                        ann.admin().describe("ops/json").orElseThrow().waiters().size() == 1);
        assertThat(run("locks", "ops/json", "--json")).as(err::toString).isZero();
        JsonNode lock = JSON.readTree(out.toString()).get(0);
        assertThat(lock.get("name").asText()).isEqualTo("ops/json");
        assertThat(lock.get("holders").get(0).get("token").asLong()).isEqualTo(held.fencingToken());
        assertThat(lock.get("holders").get(0).get("clientName").asText()).isEqualTo("ann@host-a:1");
        assertThat(lock.get("waiters").get(0).get("clientName").asText()).isEqualTo("ben@host-b:2");
        held.release();
        waiting.get(10, TimeUnit.SECONDS).release();
    }

    @Test
    void revokeTakesTheLockAndTellsTheHolder() throws Exception {
        Lease held = ann.lock("ops/revoke").acquire(Duration.ofSeconds(5));
        CompletableFuture<LockLostException> lost = new CompletableFuture<>();
        held.onLost(lost::complete);
        assertThat(run("revoke", "ops/revoke")).as(err::toString).isZero();
        assertThat(out.toString()).startsWith("Revoked 1 grant of ops/revoke");
        assertThat(lost.get(10, TimeUnit.SECONDS).getMessage()).contains("revoked");

        assertThat(run("revoke", "ops/never-held")).isZero();
        assertThat(out.toString()).contains("was not held");
        assertThat(run("revoke", "ops/../x")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().startsWith("holdfast revoke: ");
    }

    @Test
    void sessionsEndTakesTheSessionsGrantsAndTellsItsClient() throws Exception {
        try (LockClient cat = LockClient.open(
                uri, ClientOptions.builder().clientName("cat@host-c:3").build())) {
            Lease held = cat.lock("ops/end").acquire(Duration.ofSeconds(5));
            CompletableFuture<LockLostException> lost = new CompletableFuture<>();
            held.onLost(lost::complete);
            assertThat(run("sessions", "--json")).as(err::toString).isZero();
            String id = null;
            for (JsonNode s : JSON.readTree(out.toString())) {
                if (s.get("clientName").asText().equals("cat@host-c:3")) {
                    id = s.get("id").asText();
                }
            }
            assertThat(id).as("cat's session is listed").isNotNull();

            assertThat(run("sessions", "end", id)).as(err::toString).isZero();
            assertThat(out.toString()).startsWith("Ended session " + id + ": 1 grant taken back");
            assertThat(lost.get(10, TimeUnit.SECONDS)).isNotNull();
            assertThat(held.isValid()).isFalse();

            assertThat(run("sessions", "end", id)).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString().lines())
                    .singleElement()
                    .asString()
                    .isEqualTo("holdfast sessions end: no open session has the id " + id);
            // an id that begins with '-' (none this client makes) reaches the server after --
            assertThat(run("sessions", "end", "--backend", uri, "--", "-" + id.substring(1)))
                    .isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString().lines())
                    .singleElement()
                    .asString()
                    .isEqualTo("holdfast sessions end: no open session has the id -" + id.substring(1));
            assertThat(run("sessions", "end", "x", "--backend", "mem:nothing")).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("belong to a Holdfast server");
        }
    }

    @Test
    void sessionsAndMembersNeedAHoldfastServer() {
        assertThat(run("sessions", "--backend", "mem:nothing")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("belong to a Holdfast server");
        assertThat(run("members", "--backend", "mem:nothing")).isEqualTo(ExitCodes.USAGE);
    }
}
