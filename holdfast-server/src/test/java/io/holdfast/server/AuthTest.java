package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockMode;
import io.holdfast.PermissionDeniedException;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.core.AccessRules;
import io.holdfast.endpoint.Tokens;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.http.HttpMessages;
import io.holdfast.server.node.AuditLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Attacks on a three-node cluster with TLS, client certificates and bearer tokens, and access
 * rules on: each must fail while a legitimate client keeps being served. Identities: {@code
 * alice} (acquire, read and revoke under {@code a/}), {@code bob} (read everything), {@code ops}
 * (admin), {@code client} (acquire under {@code c/}); {@code mallory} has a valid token but no
 * user line.
 */
class AuthTest {
    static final String RULES = """
            user alice  writer
            user bob    reader
            user ops    root
            user client other
            user carol  writer
            role writer acquire a/* read a/* revoke a/*
            role reader read *
            role other  acquire c/* read c/*
            role root   admin *
            limit waiters-per-lock 3
            """;

    private static TestTls tls;
    private static TestCluster cluster;
    private static Tokens tokens;
    private static Path tokenSecret;

    @BeforeAll
    static void start() throws Exception {
        tls = new TestTls(TlsFiles.ClientAuth.OPTIONAL);
        byte[] secret = new byte[48];
        new SecureRandom().nextBytes(secret);
        String text = java.util.Base64.getEncoder().encodeToString(secret);
        tokenSecret = tls.dir().resolve("token.secret");
        Files.writeString(tokenSecret, text + "\n");
        tokens = Tokens.fromFile(tokenSecret);
        cluster = TestCluster.secured(tls, RULES, tokens);
    }

    @AfterAll
    static void stop() throws Exception {
        cluster.close();
    }

    private static ClientOptions options() {
        return ClientOptions.defaults();
    }

    /** A client with the certificate of {@code name}. */
    private static LockClient certClient(String name) {
        return cluster.open(tls.clientQuery(name));
    }

    /** A client with only the CA and a bearer token. */
    private static LockClient tokenClient(String token) {
        return cluster.open(tls.tokenQuery(token));
    }

    /** A raw transport (no client library in between) with the certificate of {@code name}. */
    private static ClusterTransport transport(String name) {
        return cluster.transport(tls.clientQuery(name));
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    private static Reply.Failed failed(Reply r, ErrorCode code) {
        assertThat(r).isInstanceOf(Reply.Failed.class);
        Reply.Failed f = (Reply.Failed) r;
        assertThat(f.code()).as(f.message()).isEqualTo(code);
        return f;
    }

    private static String openSession(LockService t, String id) throws Exception {
        assertThat(get(t.submit(new Command.OpenSession(id, "raw-" + id, 10_000, 0))))
                .isEqualTo(Reply.Ok.INSTANCE);
        return id;
    }

    @Test
    void anUnauthenticatedClientIsRefused() {
        assertThatThrownBy(() -> LockClient.open(cluster.uri("?ca=" + tls.file("ca.pem")), options()))
                .isInstanceOf(PermissionDeniedException.class)
                .hasMessageContaining("requires authentication");
        try (LockClient good = certClient("alice")) {
            assertThat(good.lock("a/unauth").tryAcquire()).isPresent();
        }
    }

    @Test
    void aTokenForPrefixACannotTouchAnythingElse() throws Exception {
        try (LockClient alice = tokenClient(tokens.issue("alice", Duration.ofMinutes(5)))) {
            try (Lease lease = alice.lock("a/x").acquire(Duration.ofSeconds(5))) {
                assertThat(lease.fencingToken()).isPositive();
            }
            assertThatThrownBy(() -> alice.lock("b/x").acquire(Duration.ofSeconds(5)))
                    .isInstanceOf(PermissionDeniedException.class)
                    .hasMessageContaining("may not acquire b/x");
            assertThatThrownBy(() -> alice.lock("a").tryAcquire()).isInstanceOf(PermissionDeniedException.class);
            assertThatThrownBy(() -> alice.lock("ab/x").tryAcquire()).isInstanceOf(PermissionDeniedException.class);
            assertThatThrownBy(() -> alice.lock("a/../b").tryAcquire()).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> alice.admin().describe("b/x")).isInstanceOf(PermissionDeniedException.class);
        }
        // The server's own check, without the client library's name check in front of it.
        ClusterTransport raw = transport("alice");
        String s = openSession(raw, "alice-raw-session-0001");
        failed(
                get(raw.submit(
                        new Command.Acquire(new Invocation(s, 1, 0), "a/../b", LockMode.EXCLUSIVE, 1, 1, 1, 0, 0))),
                ErrorCode.INVALID_ARGUMENT);
        failed(
                get(raw.submit(new Command.Acquire(new Invocation(s, 2, 0), "b/x", LockMode.EXCLUSIVE, 1, 1, 1, 0, 0))),
                ErrorCode.PERMISSION_DENIED);
    }

    @Test
    void anExpiredForgedOrUnknownTokenIsRefused() {
        Tokens past =
                Tokens.withSecret(secret(), Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC));
        assertThatThrownBy(() -> tokenClient(past.issue("alice", Duration.ofHours(1))))
                .isInstanceOf(PermissionDeniedException.class)
                .hasMessageContaining("expired");

        byte[] other = new byte[48];
        new SecureRandom().nextBytes(other);
        assertThatThrownBy(() -> tokenClient(Tokens.withSecret(other).issue("ops", Duration.ofHours(1))))
                .isInstanceOf(PermissionDeniedException.class)
                .hasMessageContaining("signature");

        String token = tokens.issue("alice", Duration.ofHours(1));
        String[] parts = token.split("\\.");
        String noneAlg = java.util.Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8))
                + "." + parts[1] + ".";
        assertThatThrownBy(() -> tokenClient(noneAlg)).isInstanceOf(PermissionDeniedException.class);

        assertThatThrownBy(() -> tokenClient(tokens.issue("mallory", Duration.ofHours(1))))
                .as("a valid token of an identity the rules do not know")
                .isInstanceOf(PermissionDeniedException.class)
                .hasMessageContaining("not in the access rules");

        assertThatThrownBy(() -> LockClient.open(cluster.uri("?token=" + token), options()))
                .as("a token is never sent in the clear")
                .isInstanceOf(InvalidArgumentException.class);
    }

    private static byte[] secret() {
        try {
            return Files.readString(tokenSecret).strip().getBytes(StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anotherIdentityCannotUseASessionItLearnt() throws Exception {
        ClusterTransport alice = transport("alice");
        String s = openSession(alice, "alice-session-stolen-01");
        long token = ((Reply.Granted) get(alice.submit(
                        new Command.Acquire(new Invocation(s, 1, 0), "a/stolen", LockMode.EXCLUSIVE, 1, 1, 1, 0, 0))))
                .token();

        ClusterTransport bob = transport("bob");
        failed(
                get(bob.submit(new Command.Release(new Invocation(s, 2, 0), "a/stolen", token))),
                ErrorCode.PERMISSION_DENIED);
        failed(get(bob.submit(new Command.CloseSession(new Invocation(s, 3, 0)))), ErrorCode.PERMISSION_DENIED);
        assertThatThrownBy(() -> get(bob.keepAlive(s))).hasCauseInstanceOf(PermissionDeniedException.class);

        ClusterTransport anonymousWithCa = transport("client");
        failed(
                get(anonymousWithCa.submit(new Command.Release(new Invocation(s, 4, 0), "a/stolen", token))),
                ErrorCode.PERMISSION_DENIED);

        LockClient reader = certClient("bob");
        assertThat(reader.admin().isCurrentHolder("a/stolen", token))
                .as("still held")
                .isTrue();
        assertThat(get(alice.submit(new Command.Release(new Invocation(s, 5, 0), "a/stolen", token))))
                .isEqualTo(Reply.Ok.INSTANCE);
    }

    @Test
    void aCallOfManyHeartbeatsRefusesOnlyTheSessionsOfAnotherIdentity() throws Exception {
        ClusterTransport alice = transport("alice");
        ClusterTransport bob = transport("bob");
        List<String> ids = List.of(
                openSession(alice, "alice-session-many-0001"),
                openSession(bob, "bob-session-many-000001"),
                "nobody-session-many-0001",
                openSession(alice, "alice-session-many-0002"),
                openSession(bob, "bob-session-many-000002"));
        // More than one hold of the table's lock (512 sessions each), the pattern crossing the edges.
        List<String> asked = new ArrayList<>();
        for (int i = 0; i < 1_103; i++) {
            asked.add(ids.get(i % ids.size()));
        }

        List<Reply> replies = get(bob.keepAliveMany(asked));

        assertThat(replies).hasSize(asked.size());
        for (int i = 0; i < asked.size(); i++) {
            String id = asked.get(i);
            Reply r = replies.get(i);
            if (id.startsWith("alice")) {
                assertThat(failed(r, ErrorCode.PERMISSION_DENIED).message())
                        .as("reply %d", i)
                        .contains(id);
            } else if (id.startsWith("nobody")) {
                failed(r, ErrorCode.SESSION_EXPIRED);
            } else {
                assertThat(r).as("reply %d, bob's own %s", i, id).isEqualTo(Reply.Ok.INSTANCE);
            }
        }
    }

    @Test
    void aRevokedHolderIsFencedOutAndTheRevokeIsAudited() throws Exception {
        LockClient holder = certClient("alice");
        LockClient next = tokenClient(tokens.issue("carol", Duration.ofMinutes(5)));
        DistributedLock lock = holder.lock("a/revoked");
        Lease lease = lock.acquire(Duration.ofSeconds(5));
        CompletableFuture<Lease> waiting = next.lock("a/revoked").acquireAsync(Duration.ofSeconds(30));
        Awaitility.await("carol waits")
                .atMost(Duration.ofSeconds(10))
                .until(() -> holder.admin()
                                .describe("a/revoked")
                                .map(i -> i.waiters().size())
                                .orElse(0)
                        == 1);

        assertThatThrownBy(() -> certClient("client").admin().revoke("a/revoked"))
                .as("client has no revoke on a/")
                .isInstanceOf(PermissionDeniedException.class);
        assertThat(certClient("ops").admin().revoke("a/revoked")).isEqualTo(1);

        Lease carols = waiting.get(10, TimeUnit.SECONDS);
        assertThat(carols.fencingToken()).isGreaterThan(lease.fencingToken());
        Awaitility.await("the holder is told").atMost(Duration.ofSeconds(10)).until(() -> !lease.isValid());
        assertThat(holder.admin().isCurrentHolder("a/revoked", lease.fencingToken()))
                .isFalse();
        assertThatThrownBy(() -> holder.register("a/fenced").compareAndSet(0, new byte[] {1}, lease))
                .as("a write fenced by the revoked token")
                .isInstanceOf(io.holdfast.ConflictException.class);
        assertThatThrownBy(lease::close)
                .as("giving back what was revoked tells the holder")
                .isInstanceOf(io.holdfast.LockLostException.class);

        for (int i = 0; i < cluster.size(); i++) {
            AuditLog.Entry entry = cluster.node(i).parts().audit().entries().stream()
                    .filter(e -> "a/revoked".equals(e.name()) && e.outcome().equals("ok"))
                    .findFirst()
                    .orElseThrow();
            assertThat(entry.identity()).isEqualTo("ops");
            assertThat(entry.action()).isEqualTo("revoke");
            assertThat(entry.revokedTokens()).containsExactly(lease.fencingToken());
            assertThat(entry.grantedTokens()).containsExactly(carols.fencingToken());
            assertThat(entry.clusterTime()).isPositive();
        }
        assertThat(cluster.node(cluster.leaderIndex()).parts().audit().entries())
                .anyMatch(e -> "a/revoked".equals(e.name())
                        && "client".equals(e.identity())
                        && e.outcome().startsWith("PERMISSION_DENIED"));
        carols.close();
    }

    /**
     * Every node's audit entries: the node that decides a request audits it (the leader, which
     * may change under a loaded machine); applied revokes are audited on every node.
     */
    private static List<AuditLog.Entry> auditedEntries() {
        List<AuditLog.Entry> all = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
            all.addAll(cluster.node(i).parts().audit().entries());
        }
        return all;
    }

    /** HTTPS to node {@code i}'s HTTP port with the certificate of {@code name} (null: only the CA). */
    private static TestHttp https(int i, String name) {
        TlsFiles files = name == null
                ? new TlsFiles(null, null, tls.file("ca.pem"))
                : new TlsFiles(tls.file(name + ".pem"), tls.file(name + "-key.pem"), tls.file("ca.pem"));
        return TestHttp.https(cluster.node(i).httpPort(), files.sslContext())
                .askingAgainDuringElections(Duration.ofSeconds(20));
    }

    private static void httpError(TestHttp.Answer a, int status, String code) {
        assertThat(a.status()).as(a.body()).isEqualTo(status);
        assertThat(a.json().get("error").get("code").asText()).isEqualTo(code);
    }

    private static List<String> lockNames(TestHttp.Answer a) {
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        List<String> names = new ArrayList<>();
        a.json().get("locks").forEach(l -> names.add(l.get("name").asText()));
        return names;
    }

    @Test
    void theHttpApiHonoursTheSameIdentitiesAndRules() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        Lease alices = certClient("alice").lock("a/http").acquire(Duration.ofSeconds(5));
        LockClient clientC = certClient("client");
        Lease clients = clientC.lock("c/http").acquire(Duration.ofSeconds(5));
        CompletableFuture<io.holdfast.LockLostException> lost = new CompletableFuture<>();
        clients.onLost(lost::complete);

        int port = cluster.node(leader).httpPort();
        assertThatThrownBy(() -> TestHttp.plain(port).get("/health"))
                .as("plaintext HTTP to a TLS node")
                .isInstanceOf(java.io.IOException.class);
        TestHttp anonymous = https(leader, null);
        assertThat(anonymous.get("/health").status()).isEqualTo(200);
        httpError(anonymous.get("/api/v1/locks"), 401, "PERMISSION_DENIED");
        httpError(anonymous.withToken("not-a-token").get("/api/v1/locks"), 401, "PERMISSION_DENIED");
        assertThat(lockNames(anonymous
                        .withToken(tokens.issue("mallory", Duration.ofMinutes(5)))
                        .get("/api/v1/locks")))
                .as("a valid token without a user line reads nothing")
                .isEmpty();

        // alice, with a token: reads and revokes only under a/
        TestHttp alice = anonymous.withToken(tokens.issue("alice", Duration.ofMinutes(5)));
        assertThat(alice.get("/api/v1/whoami").json().get("identity").asText()).isEqualTo("alice");
        assertThat(alice.get("/api/v1/whoami").json().get("admin").asBoolean()).isFalse();
        assertThat(lockNames(alice.get("/api/v1/locks"))).contains("a/http").doesNotContain("c/http");
        assertThat(lockNames(alice.get("/api/v1/locks?prefix=c/"))).isEmpty();
        httpError(alice.get("/api/v1/locks/c/http"), 403, "PERMISSION_DENIED");
        httpError(alice.post("/api/v1/revoke", "{\"name\":\"c/http\"}"), 403, "PERMISSION_DENIED");
        assertThat(auditedEntries())
                .as("a refused revoke over HTTP is audited like one over gRPC")
                .anyMatch(e -> "c/http".equals(e.name())
                        && "alice".equals(e.identity())
                        && e.outcome().startsWith("PERMISSION_DENIED"));
        httpError(alice.post("/api/v1/revoke", "{\"name\":\"a/../c/http\"}"), 400, "INVALID_ARGUMENT");
        TestHttp.Answer aliceSessions = alice.get("/api/v1/sessions");
        assertThat(aliceSessions.json().get("sessions")).isNotEmpty();
        aliceSessions
                .json()
                .get("sessions")
                .forEach(x -> assertThat(x.get("identity").asText())
                        .as("alice sees only her own sessions")
                        .isEqualTo("alice"));
        // bob reads everything but revokes nothing
        TestHttp bob = https(leader, "bob");
        assertThat(lockNames(bob.get("/api/v1/locks"))).contains("a/http", "c/http");
        httpError(bob.post("/api/v1/revoke", "{\"name\":\"a/http\"}"), 403, "PERMISSION_DENIED");
        assertThat(clients.isValid()).isTrue();
        assertThat(alices.isValid()).isTrue();
        assertThat(clientC.admin().isCurrentHolder("c/http", clients.fencingToken()))
                .isTrue();

        // ops, by client certificate: an admin sees every session and may revoke anything
        TestHttp ops = https(leader, "ops");
        assertThat(ops.get("/api/v1/whoami").json().get("identity").asText()).isEqualTo("ops");
        assertThat(ops.get("/api/v1/whoami").json().get("admin").asBoolean()).isTrue();
        List<String> owners = new ArrayList<>();
        ops.get("/api/v1/sessions?limit=1000")
                .json()
                .get("sessions")
                .forEach(x -> owners.add(x.get("identity").asText()));
        assertThat(owners).contains("alice", "client");
        TestHttp.Answer revoked = ops.post("/api/v1/revoke", "{\"name\":\"c/http\"}");
        assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
        assertThat(revoked.json().get("revoked").asLong()).isEqualTo(1);
        assertThat(lost.get(10, TimeUnit.SECONDS)).hasMessageContaining("revoked");
        assertThat(auditedEntries())
                .anyMatch(e -> "c/http".equals(e.name())
                        && "ops".equals(e.identity())
                        && e.outcome().equals("ok"));

        // a follower answers reads from its replica and forwards writes to the leader, with the
        // caller's identity: the leader's rules decide
        // (the leader may have moved on the loaded CI machine since the test began: a follower is
        // chosen, and its answer kept, only while the same node leads before and after the read)
        int[] follower = {-1};
        TestHttp.Answer[] atFollower = {null};
        Awaitility.await("a follower's replica shows a/http")
                .atMost(Duration.ofSeconds(20))
                .until(() -> {
                    int now = cluster.leaderIndex();
                    if (now < 0) {
                        return false;
                    }
                    int f = (now + 1) % cluster.size();
                    TestHttp.Answer read = https(f, "ops").get("/api/v1/locks");
                    if (cluster.leaderIndex() != now || !lockNames(read).contains("a/http")) {
                        return false;
                    }
                    follower[0] = f;
                    atFollower[0] = read;
                    return true;
                });
        assertThat(atFollower[0].json().get("linearizable").asBoolean())
                .as("a follower's read says it may lag")
                .isFalse();
        TestHttp opsAtFollower = https(follower[0], "ops");
        httpError(https(follower[0], "bob").post("/api/v1/revoke", "{\"name\":\"a/http\"}"), 403, "PERMISSION_DENIED");
        assertThat(alices.isValid()).isTrue();
        TestHttp.Answer forwarded = opsAtFollower.post("/api/v1/revoke", "{\"name\":\"a/http\"}");
        assertThat(forwarded.status()).as(forwarded.body()).isEqualTo(200);
        assertThat(forwarded.json().get("revoked").asLong()).isEqualTo(1);
        assertThat(auditedEntries())
                .as("the forwarded revoke is audited under the caller's identity")
                .anyMatch(e -> "a/http".equals(e.name())
                        && "ops".equals(e.identity())
                        && e.outcome().equals("ok"));
        Awaitility.await("alice learns her lease was revoked")
                .atMost(Duration.ofSeconds(10))
                .until(() -> !alices.isValid());
        assertThatThrownBy(alices::close)
                .as("a revoked lease says so when closed")
                .isInstanceOf(io.holdfast.LockLostException.class);
    }

    @Test
    void anHttpSessionBelongsToItsIdentityAndFollowsTheRules() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        TestHttp alice = https(leader, null).withToken(tokens.issue("alice", Duration.ofMinutes(5)));
        TestHttp.Answer opened = alice.post("/api/v1/sessions", "{\"clientName\":\"alice-script\"}");
        assertThat(opened.status()).as(opened.body()).isEqualTo(201);
        String session = opened.json().get("sessionId").asText();

        TestHttp.Answer granted =
                alice.post("/api/v1/acquire", "{\"session\":\"" + session + "\",\"name\":\"a/http-session\"}");
        assertThat(granted.status()).as(granted.body()).isEqualTo(200);
        httpError(
                alice.post("/api/v1/acquire", "{\"session\":\"" + session + "\",\"name\":\"c/not-alices\"}"),
                403,
                "PERMISSION_DENIED");
        // bob learnt alice's session id: he can neither release with it nor keep it alive nor close it
        TestHttp bob = https(leader, "bob");
        long token = granted.json().get("token").asLong();
        httpError(
                bob.post(
                        "/api/v1/release",
                        "{\"session\":\"" + session + "\",\"name\":\"a/http-session\",\"token\":" + token + "}"),
                403,
                "PERMISSION_DENIED");
        httpError(bob.post("/api/v1/sessions/" + session + "/keepalive", "{}"), 403, "PERMISSION_DENIED");
        httpError(bob.send("DELETE", "/api/v1/sessions/" + session, null, null), 403, "PERMISSION_DENIED");
        assertThat(certClient("ops").admin().isCurrentHolder("a/http-session", token))
                .isTrue();
        assertThat(alice.send("DELETE", "/api/v1/sessions/" + session, null, null)
                        .status())
                .isEqualTo(200);
    }

    @Test
    void keysOverHttpFollowTheRulesAndAreChangedAtTheLeader() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        TestHttp alice = https(leader, null).withToken(tokens.issue("alice", Duration.ofMinutes(5)));
        TestHttp client = https(leader, "client");
        String a = alice.post("/api/v1/sessions", "{}").json().get("sessionId").asText();
        String c = client.post("/api/v1/sessions", "{}").json().get("sessionId").asText();
        String put = "{\"session\":\"%s\",\"requestId\":%d,\"key\":\"%s\",\"value\":\"\",\"attach\":true}";
        assertThat(alice.post("/api/v1/keys/put", put.formatted(a, 1, "a/keys/x"))
                        .status())
                .isEqualTo(200);
        assertThat(client.post("/api/v1/keys/put", put.formatted(c, 1, "c/keys/y"))
                        .status())
                .isEqualTo(200);
        httpError(alice.post("/api/v1/keys/put", put.formatted(a, 2, "c/keys/x")), 403, "PERMISSION_DENIED");
        httpError(
                alice.post("/api/v1/keys/delete", "{\"session\":\"" + a + "\",\"requestId\":3,\"key\":\"c/keys/y\"}"),
                403,
                "PERMISSION_DENIED");
        httpError(
                alice.post(
                        "/api/v1/txn",
                        "{\"session\":\"" + a
                                + "\",\"requestId\":4,\"then\":[{\"type\":\"get\",\"key\":\"c/keys/y\"}]}"),
                403,
                "PERMISSION_DENIED");
        httpError(alice.get("/api/v1/keys/c/keys/y"), 403, "PERMISSION_DENIED");
        assertThat(alice.get("/api/v1/keys/a/keys/x").json().get("owner").asText())
                .isEqualTo(a);
        List<String> listed = new ArrayList<>();
        alice.get("/api/v1/keys?prefix=")
                .json()
                .get("keys")
                .forEach(k -> listed.add(k.get("key").asText()));
        assertThat(listed).contains("a/keys/x").allMatch(k -> k.startsWith("a/"));
        List<String> watched = new ArrayList<>();
        TestHttp.Answer state = alice.get("/api/v1/watch?keys=&waitMillis=0");
        assertThat(state.status()).as(state.body()).isEqualTo(200);
        state.json().get("keys").forEach(k -> watched.add(k.get("key").asText()));
        assertThat(watched).contains("a/keys/x").allMatch(k -> k.startsWith("a/"));

        TestHttp aliceAtFollower =
                https((leader + 1) % cluster.size(), null).withToken(tokens.issue("alice", Duration.ofMinutes(5)));
        // at a follower, the same rules: the write is forwarded with alice's identity, the read is linearizable
        TestHttp.Answer putAtFollower = aliceAtFollower.post("/api/v1/keys/put", put.formatted(a, 5, "a/keys/z"));
        assertThat(putAtFollower.status()).as(putAtFollower.body()).isEqualTo(200);
        assertThat(aliceAtFollower
                        .get("/api/v1/keys/a/keys/z")
                        .json()
                        .get("owner")
                        .asText())
                .as("a read at the follower sees the write it forwarded")
                .isEqualTo(a);
        httpError(aliceAtFollower.post("/api/v1/keys/put", put.formatted(a, 6, "c/keys/z")), 403, "PERMISSION_DENIED");
        httpError(aliceAtFollower.get("/api/v1/keys/c/keys/y"), 403, "PERMISSION_DENIED");
        assertThat(alice.send("DELETE", "/api/v1/sessions/" + a, null, null).status())
                .isEqualTo(200);
        assertThat(client.send("DELETE", "/api/v1/sessions/" + c, null, null).status())
                .isEqualTo(200);
    }

    /**
     * Over HTTPS, a request whose route never reads its body (a keep-alive with {@code {}}) once left
     * its keep-alive connection stalled: the next request on it went unanswered until the client gave
     * up (within 40 rounds in every try; a CI run failed on it). The node now reads every body whole
     * before answering; an oversized one is refused and its connection closed.
     */
    @Test
    void aBodyThatNoRouteReadsLeavesTheConnectionServingTheNextRequest() throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        TestHttp alice = https(leader, null).withToken(tokens.issue("alice", Duration.ofMinutes(5)));
        // Alice never keeps her session alive here: a TTL of ten minutes outlasts 200 rounds on a
        // loaded machine (the default 10 s expired it in a CI run, and Bob's refusal became "expired").
        String session = alice.post("/api/v1/sessions", "{\"clientName\":\"alice-bodies\",\"ttlMillis\":600000}")
                .json()
                .get("sessionId")
                .asText();
        TestHttp bob = https(leader, "bob").withTimeout(Duration.ofSeconds(5));
        for (int round = 0; round < 200; round++) {
            httpError(bob.post("/api/v1/sessions/" + session + "/keepalive", "{}"), 403, "PERMISSION_DENIED");
            assertThat(bob.get("/api/v1/status").status()).as("round %d", round).isEqualTo(200);
        }
        String oversized = "{\"x\":\"" + "x".repeat(HttpMessages.MAX_BODY) + "\"}";
        httpError(bob.post("/api/v1/sessions/" + session + "/keepalive", oversized), 413, "INVALID_ARGUMENT");
        assertThat(bob.get("/api/v1/status").status()).isEqualTo(200);
        assertThat(alice.send("DELETE", "/api/v1/sessions/" + session, null, null)
                        .status())
                .isEqualTo(200);
    }

    @Test
    void aWaiterFloodIsRefusedWhileOthersAreServed() throws Exception {
        LockClient holder = certClient("alice");
        Lease held = holder.lock("a/flooded").acquire(Duration.ofSeconds(5));
        ClusterTransport flood = transport("alice");
        String s = openSession(flood, "alice-flood-session-001");
        List<Reply> replies = new ArrayList<>();
        for (int owner = 1; owner <= 5; owner++) {
            replies.add(get(flood.submit(new Command.Acquire(
                    new Invocation(s, owner, 0), "a/flooded", LockMode.EXCLUSIVE, 1, 1, owner, 60_000, 0))));
        }
        assertThat(replies.subList(0, 3)).containsOnly(Reply.Queued.INSTANCE);
        Reply.Failed refused = failed(replies.get(3), ErrorCode.QUOTA_EXCEEDED);
        assertThat(refused.message()).contains("waiters-per-lock");
        failed(replies.get(4), ErrorCode.QUOTA_EXCEEDED);
        assertThat(cluster.node(cluster.leaderIndex())
                        .parts()
                        .machine()
                        .read(io.holdfast.core.LockTable::refusals)
                        .get("waiters-per-lock"))
                .isGreaterThanOrEqualTo(2);

        try (LockClient other = certClient("client")) {
            try (Lease l = other.lock("c/unaffected").acquire(Duration.ofSeconds(5))) {
                assertThat(l.isValid()).isTrue();
            }
        }
        get(flood.submit(new Command.CloseSession(new Invocation(s, 6, 0))));
        held.close();
    }

    @Test
    void onlyAnAdminChangesTheMembers() throws Exception {
        ClusterTransport alice = transport("alice");
        var change = new io.holdfast.model.MembershipChange.Add("n9", "127.0.0.1:1", "127.0.0.1:2", true);
        assertThatThrownBy(() -> get(alice.changeMembers(null, change)))
                .hasCauseInstanceOf(PermissionDeniedException.class)
                .hasMessageContaining("may not change the members");
        assertThatThrownBy(() ->
                        get(alice.changeMembers(null, new io.holdfast.model.MembershipChange.TransferLeader(null))))
                .hasCauseInstanceOf(PermissionDeniedException.class);
        assertThat(get(alice.cluster()).members()).extracting(m -> m.id()).containsExactly("n1", "n2", "n3");

        // An admin is let through to the change itself: asking to remove a member there is not
        // fails on the members, not on the rules.
        ClusterTransport ops = transport("ops");
        assertThatThrownBy(() -> get(ops.changeMembers(null, new io.holdfast.model.MembershipChange.Remove("n9"))))
                .hasCauseInstanceOf(io.holdfast.InvalidArgumentException.class)
                .hasMessageContaining("no member has the id 'n9'");
        assertThat(cluster.node(cluster.leaderIndex()).parts().audit().entries().stream()
                        .filter(e -> e.action().equals("change-members"))
                        .map(e -> e.identity() + " " + e.name()))
                .contains("ops remove n9");
    }

    @Test
    void keysAndAWatchOfKeysShowOnlyTheKeysTheCallerMayRead() throws Exception {
        ClusterTransport ops = transport("ops");
        ClusterTransport client = transport("client");
        String session = openSession(ops, "auth-keys-ops-session-1");
        io.holdfast.model.ChangePosition from = get(ops.keys(null, "", null, 1)).position();
        long seq = 0;
        for (String key : List.of("a/auth-keys", "c/auth-keys")) {
            assertThat(get(ops.submit(
                            new RegisterSet(new Invocation(session, ++seq, 0), key, 0, new byte[] {1}, null, 0))))
                    .isEqualTo(new Reply.Written(1));
        }

        assertThat(get(client.keys(null, "", null, 1_000)).keys())
                .extracting(io.holdfast.model.KeyPage.Entry::key)
                .contains("c/auth-keys")
                .noneMatch(k -> k.startsWith("a/"));
        assertThat(get(client.keys(null, "a/", null, 1_000)).keys()).isEmpty();
        // A watch of every key is not refused for a name the caller may not read (""): it is
        // answered with the keys it may read, as a prefix watch of locks is.
        List<io.holdfast.WatchEvent> seen = new ArrayList<>();
        io.holdfast.model.ChangePosition[] after = {from};
        Awaitility.await("the write of c/auth-keys")
                .atMost(Duration.ofSeconds(10))
                .until(() -> {
                    io.holdfast.model.ChangePage page =
                            get(client.changes(null, io.holdfast.WatchTarget.keys(""), after[0], 1_000));
                    seen.addAll(page.events());
                    after[0] = page.next();
                    return seen.stream().anyMatch(e -> e.name().equals("c/auth-keys"));
                });
        assertThat(seen).extracting(io.holdfast.WatchEvent::name).noneMatch(n -> n.startsWith("a/"));
    }

    @Test
    void rulesChangeAtRunTimeThroughTheLogOnEveryReplica() throws Exception {
        ClusterTransport ops = transport("ops");
        ClusterTransport alice = transport("alice");
        failed(
                get(alice.submit(new Command.SetAccessRules("user alice r\nrole r admin *"))),
                ErrorCode.PERMISSION_DENIED);

        String changed = RULES.replace("user client other", "user client other writer");
        assertThat(get(ops.submit(new Command.SetAccessRules(changed)))).isEqualTo(Reply.Ok.INSTANCE);
        Awaitility.await("the new rules on every replica")
                .atMost(Duration.ofSeconds(10))
                .until(() -> cluster.allReplicasHave(AccessRules.parse(changed)));
        try (LockClient client = certClient("client")) {
            try (Lease l = client.lock("a/now-allowed").acquire(Duration.ofSeconds(5))) {
                assertThat(l.isValid()).isTrue();
            }
        } finally {
            assertThat(get(ops.submit(new Command.SetAccessRules(RULES)))).isEqualTo(Reply.Ok.INSTANCE);
        }
        assertThat(cluster.node(0).parts().machine().digest().split(":")[0]).isNotEmpty();
    }
}
