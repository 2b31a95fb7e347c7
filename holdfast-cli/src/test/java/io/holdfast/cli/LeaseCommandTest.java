package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast lease grant|keep-alive|revoke|show} and {@code kv put --lease} (ADR 0006) as a
 * user types them, against a real server node on loopback: the keys of several commands share one
 * lease, go with it when it is revoked, and a keep-alive exits 69 naming the lease once it is gone.
 */
class LeaseCommandTest {
    @TempDir
    Path dir;

    private static final Duration WAIT = Duration.ofSeconds(60);

    private HoldfastServer node;
    private String uri;

    @BeforeEach
    void start() throws Exception {
        node = HoldfastServer.start(
                ServerConfig.single(dir.resolve("n1"), "127.0.0.1", FreePorts.next(), FreePorts.next(), -1));
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
        uri = "holdfast://127.0.0.1:" + node.clientPort();
    }

    @AfterEach
    void stop() {
        node.close();
    }

    private CliRun ok(String... args) throws Exception {
        CliRun r = new CliRun(args);
        assertThat(r.exitWithin(WAIT)).as(String.join(" ", args) + ": " + r.err).isZero();
        return r;
    }

    @Test
    void keysOfSeveralCommandsShareALeaseAndGoWhenItIsRevoked() throws Exception {
        String lease = ok("lease", "grant", "30s", "--backend", uri).lines().get(0);
        ok("kv", "put", "svc/web/i-1", "10.0.0.7", "--lease", lease, "--backend", uri);
        // a transaction's put on the lease, as the protocol writes it (kv txn ignored "lease" before)
        java.nio.file.Path txn = java.nio.file.Files.createTempFile("lease-txn", ".json");
        java.nio.file.Files.writeString(
                txn,
                "{\"then\":[{\"type\":\"put\",\"key\":\"svc/web/i-2\",\"text\":\"10.0.0.8\",\"lease\":\"" + lease
                        + "\"}]}");
        ok("kv", "txn", txn.toString(), "--backend", uri);
        ok("kv", "put", "svc/other", "x", "--backend", uri);

        List<String> shown = ok("lease", "show", lease, "--backend", uri).lines();
        assertThat(shown.get(0))
                .startsWith("lease " + lease + " TTL 30s, left ")
                .endsWith(", 2 keys attached");
        assertThat(shown.subList(1, shown.size())).containsExactly("svc/web/i-1", "svc/web/i-2");
        java.nio.file.Files.delete(txn);

        assertThat(ok("lease", "revoke", lease, "--backend", uri).lines())
                .containsExactly("Revoked lease " + lease + ": its keys are deleted.");
        try (LockClient c = LockClient.open(uri)) {
            assertThat(c.keys().list("svc/").entries())
                    .extracting(io.holdfast.KeyEntry::key)
                    .containsExactly("svc/other");
        }

        CliRun again = new CliRun("lease", "revoke", lease, "--backend", uri);
        assertThat(again.exitWithin(WAIT)).isEqualTo(ExitCodes.USAGE);
        assertThat(again.err.toString().lines())
                .singleElement()
                .asString()
                .isEqualTo("holdfast lease revoke: no open lease has the id " + lease);
        CliRun put = new CliRun("kv", "put", "svc/late", "x", "--lease", lease, "--backend", uri);
        assertThat(put.exitWithin(WAIT))
                .as("a put on a lease that is gone: a conflict")
                .isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(put.err.toString()).contains("lease " + lease + " is not an open session");
    }

    @Test
    void aKeepAliveKeepsTheLeasePastItsTtlAndExits69OnceItIsGone() throws Exception {
        // 5 s: the put and the keep-alive below must reach it before it expires, on a machine at CI's
        // load too (with 2 s, the put found it gone while a CI build ran beside the test).
        String lease = ok("lease", "grant", "5s", "--backend", uri).lines().get(0);
        ok("kv", "put", "svc/kept", "x", "--lease", lease, "--backend", uri);
        CliRun keep = new CliRun("lease", "keep-alive", lease, "--backend", uri);
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> !keep.lines().isEmpty());
        assertThat(keep.lines().get(0)).isEqualTo("keeping lease " + lease + " (TTL 5s) alive; Ctrl-C stops");

        try (LockClient c = LockClient.open(uri)) {
            // more than two TTLs: only the heartbeats keep it
            Awaitility.await()
                    .during(Duration.ofSeconds(11))
                    .atMost(Duration.ofSeconds(16))
                    .untilAsserted(() -> assertThat(c.keys().get("svc/kept"))
                            .as("kept past its TTL")
                            .isPresent());
        }

        ok("sessions", "end", lease, "--backend", uri);
        assertThat(keep.exitWithin(WAIT)).isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(keep.err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast lease keep-alive: lease " + lease + " is gone: ");
    }

    @Test
    void badInputIsAUsageErrorNamingIt() throws Exception {
        CliRun ttl = new CliRun("lease", "grant", "20m", "--backend", uri);
        assertThat(ttl.exitWithin(WAIT)).isEqualTo(ExitCodes.USAGE);
        assertThat(ttl.err.toString()).contains("a lease's TTL is 1s to 10m, not 20m");

        CliRun both =
                new CliRun("kv", "put", "k", "v", "--lease", "LeaseSession0000000001", "--attach", "--backend", uri);
        assertThat(both.exitWithin(WAIT)).isEqualTo(ExitCodes.USAGE);
        assertThat(both.err.toString()).contains("--lease cannot be given with --attach, --detach or --ttl");

        CliRun show = new CliRun("lease", "show", "not/an/id", "--backend", uri);
        assertThat(show.exitWithin(WAIT)).isEqualTo(ExitCodes.USAGE);
        assertThat(show.err.toString().strip())
                .isEqualTo("holdfast lease show: not a lease id: not/an/id ('/' at character 4 is not one of"
                        + " A-Z a-z 0-9 - _)");

        CliRun shortId = new CliRun("lease", "revoke", "abc", "--backend", uri);
        assertThat(shortId.exitWithin(WAIT)).isEqualTo(ExitCodes.USAGE);
        assertThat(shortId.err.toString().strip())
                .isEqualTo("holdfast lease revoke: not a lease id: abc (`holdfast lease grant` prints 22 characters of"
                        + " A-Z a-z 0-9 - _; this has 3)");

        CliRun none = new CliRun("lease", "show", "LeaseSession0000000001", "--backend", uri);
        assertThat(none.exitWithin(WAIT)).isEqualTo(ExitCodes.USAGE);
        assertThat(none.err.toString()).contains("no open lease has the id LeaseSession0000000001");
    }
}
