package io.holdfast.openapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import io.holdfast.openapi.api.ClientApi;
import io.holdfast.openapi.api.OpenApi;
import io.holdfast.openapi.api.OperatorApi;
import io.holdfast.openapi.model.AcquireAllRequest;
import io.holdfast.openapi.model.AcquireRequest;
import io.holdfast.openapi.model.AddCounterRequest;
import io.holdfast.openapi.model.Compare;
import io.holdfast.openapi.model.Counted;
import io.holdfast.openapi.model.DeleteKeyRequest;
import io.holdfast.openapi.model.Fence;
import io.holdfast.openapi.model.Granted;
import io.holdfast.openapi.model.GrantedAll;
import io.holdfast.openapi.model.GrantedAllLocksInner;
import io.holdfast.openapi.model.Holder;
import io.holdfast.openapi.model.Key;
import io.holdfast.openapi.model.KeyPage;
import io.holdfast.openapi.model.KeyVersion;
import io.holdfast.openapi.model.Op;
import io.holdfast.openapi.model.OpResult;
import io.holdfast.openapi.model.OpenSessionRequest;
import io.holdfast.openapi.model.OpenedSession;
import io.holdfast.openapi.model.PutKeyRequest;
import io.holdfast.openapi.model.Register;
import io.holdfast.openapi.model.RegisterWritten;
import io.holdfast.openapi.model.ReleaseRequest;
import io.holdfast.openapi.model.RevokeRequest;
import io.holdfast.openapi.model.SetRegisterRequest;
import io.holdfast.openapi.model.TxnRequest;
import io.holdfast.openapi.model.TxnResult;
import io.holdfast.openapi.model.WatchEvent;
import io.holdfast.openapi.model.WatchPage;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client that openapi-generator ({@code native} library) makes from the server's {@code
 * openapi.json}, against a real server on loopback: it opens a session, takes a lock and reads
 * the fencing token it was granted. The client's JSON reader is made strict (an answer's field
 * that its schema does not declare fails the call), so each answer read here matches its schema.
 */
class GeneratedClientTest {
    @TempDir
    static Path dir;

    private static HoldfastServer server;
    private static ApiClient http;

    @BeforeAll
    static void start() throws Exception {
        server = HoldfastServer.start(
                ServerConfig.single(dir, "127.0.0.1", FreePorts.next(), FreePorts.next(), FreePorts.next()));
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(server::isLeader);
        http = new ApiClient();
        http.updateBaseUri("http://127.0.0.1:" + server.httpPort());
        http.setObjectMapper(http.getObjectMapper().copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** docs/integrations.md's lines as written, with checks between them. */
    @Test
    void opensASessionTakesALockAndReadsItsToken() throws Exception {
        ClientApi api = new ClientApi(http);
        OpenedSession session = api.openSession(new OpenSessionRequest().clientName("nightly@batch-1"));
        assertThat(session.getSessionId()).isNotBlank();
        assertThat(session.getTtlMillis()).isPositive();
        Granted grant = api.acquire(new AcquireRequest()
                .session(session.getSessionId())
                .requestId(1L)
                .name("jobs/nightly"));
        long token = grant.getToken();
        assertThat(grant.getGranted()).isTrue();
        assertThat(grant.getName()).isEqualTo("jobs/nightly");
        assertThat(token).isPositive();
        assertThat(api.fence("jobs/nightly", token).getCurrent())
                .as("the token is the lock's current grant")
                .isTrue();
        assertThat(api.keepAlive(session.getSessionId(), Map.of()).getSessionId())
                .isEqualTo(session.getSessionId());
        assertThat(api.release(new ReleaseRequest()
                                .session(session.getSessionId())
                                .requestId(2L)
                                .name("jobs/nightly")
                                .token(token))
                        .getReleased())
                .isTrue();
        assertThat(api.closeSession(session.getSessionId(), 3L, null).getClosed())
                .isEqualTo(session.getSessionId());
    }

    @Test
    void theNextGrantHasALargerTokenAndTheFirstIsNoLongerCurrent() throws Exception {
        ClientApi api = new ClientApi(http);
        String a = api.openSession(new OpenSessionRequest().clientName("a")).getSessionId();
        String b = api.openSession(new OpenSessionRequest().clientName("b")).getSessionId();
        long first = api.acquire(new AcquireRequest().session(a).requestId(1L).name("jobs/sync"))
                .getToken();
        assertThatThrownBy(() -> api.acquire(
                        new AcquireRequest().session(b).requestId(1L).name("jobs/sync")))
                .as("held by a: b is refused, try once")
                .isInstanceOfSatisfying(
                        ApiException.class, e -> assertThat(e.getCode()).isEqualTo(409));
        api.closeSession(a, 2L, null);
        long next = api.acquire(new AcquireRequest().session(b).requestId(2L).name("jobs/sync"))
                .getToken();
        assertThat(next).isGreaterThan(first);
        Fence stale = api.fence("jobs/sync", first);
        assertThat(stale.getCurrent()).as("the first token is stale").isFalse();
        api.closeSession(b, 3L, null);
    }

    @Test
    void theOtherClientAndOperatorAnswersReadAsTheirSchemas() throws Exception {
        ClientApi api = new ClientApi(http);
        OperatorApi operator = new OperatorApi(http);
        String s =
                api.openSession(new OpenSessionRequest().clientName("others")).getSessionId();
        GrantedAll both = api.acquireAll(new AcquireAllRequest()
                .session(s)
                .requestId(1L)
                .names(List.of("others/a", "others/b"))
                .leaseMillis(5000));
        assertThat(both.getLocks()).extracting(GrantedAllLocksInner::getName).containsExactly("others/a", "others/b");
        long a = both.getLocks().get(0).getToken();
        assertThat(api.renew(new ReleaseRequest()
                                .session(s)
                                .requestId(2L)
                                .name("others/a")
                                .token(a))
                        .getRenewed())
                .isTrue();
        assertThat(operator.getLock("others/a").getLock().getHolders())
                .singleElement()
                .extracting(Holder::getToken)
                .isEqualTo(a);
        assertThat(api.watch("others/a", null, null, null, null, 0, null).getName())
                .isEqualTo("others/a");
        assertThat(api.sessionEvents(s, null, 0).getSessionId()).isEqualTo(s);

        RegisterWritten written = api.setRegister(new SetRegisterRequest()
                .session(s)
                .requestId(3L)
                .key("others/config")
                .expectedVersion(0L)
                .value("v1".getBytes(StandardCharsets.UTF_8)));
        Register read = api.readRegister("others/config");
        assertThat(read.getVersion()).isEqualTo(written.getVersion());
        assertThat(new String(read.getValue(), StandardCharsets.UTF_8)).isEqualTo("v1");
        assertThat(api.watch(null, null, "others/config", null, null, 0, null).getWatch())
                .isEqualTo(WatchPage.WatchEnum.REGISTER);

        assertThat(operator.revoke(new RevokeRequest().name("others/b")).getRevoked())
                .isOne();
        assertThat(operator.listElections(null, null, null).getElections()).isNotNull();
        assertThat(api.endSession(s, Map.of()).getEnded()).isEqualTo(s);
    }

    /** Keys: put attached, add, a transaction, list, read, watch, delete; each answer as its schema. */
    @Test
    void keysAndTransactionsReadAsTheirSchemas() throws Exception {
        ClientApi api = new ClientApi(http);
        String s = api.openSession(new OpenSessionRequest().clientName("keys")).getSessionId();
        byte[] address = "10.0.0.7:8080".getBytes(StandardCharsets.UTF_8);
        KeyVersion put = api.putKey(new PutKeyRequest()
                .session(s)
                .requestId(1L)
                .key("services/web/i-1")
                .value(address)
                .attach(true));
        assertThat(put.getVersion()).isEqualTo(1L);
        Counted counted = api.addCounter(new AddCounterRequest()
                .session(s)
                .requestId(2L)
                .key("services/web/count")
                .delta(2L));
        assertThat(counted.getValue()).isEqualTo(2L);
        TxnResult txn = api.txn(new TxnRequest()
                .session(s)
                .requestId(3L)
                .compares(List.of(new Compare()
                        .type(Compare.TypeEnum.VERSION)
                        .key("services/web/count")
                        .order(Compare.OrderEnum.EQUAL)
                        .version(1L)))
                .then(List.of(
                        new Op().type(Op.TypeEnum.ADD).key("services/web/count").delta(1L)))
                .otherwise(List.of(new Op().type(Op.TypeEnum.GET).key("services/web/i-1"))));
        assertThat(txn.getSucceeded()).isTrue();
        assertThat(txn.getResults())
                .singleElement()
                .extracting(OpResult::getCounter)
                .isEqualTo(3L);
        KeyPage page = api.listKeys("services/web/", null, null, null);
        assertThat(page.getKeys()).extracting(Key::getKey).containsExactly("services/web/count", "services/web/i-1");
        assertThat(page.getKeys().get(1).getOwner()).isEqualTo(s);
        assertThat(page.getMore()).isFalse();
        assertThat(api.listKeys("services/web/", null, null, true).getKeys())
                .as("keys only: no values")
                .extracting(Key::getValue)
                .allMatch(v -> v == null || v.length == 0);
        Key read = api.getKey("services/web/i-1");
        assertThat(read.getValue()).isEqualTo(address);
        WatchPage watch = api.watch(null, null, null, "services/web/", null, 0, null);
        assertThat(watch.getWatch()).isEqualTo(WatchPage.WatchEnum.KEYS);
        assertThat(watch.getKeys()).hasSize(2);
        assertThat(api.deleteKey(new DeleteKeyRequest()
                                .session(s)
                                .requestId(4L)
                                .key("services/web/count")
                                .expectedVersion(2L))
                        .getVersion())
                .isEqualTo(2L);
        api.closeSession(s, 5L, null);
        // From where the page was read: the delete and the session's end, nothing before.
        WatchPage after = api.watch(null, null, null, "services/web/", page.getPosition(), 0, null);
        assertThat(after.getEvents())
                .extracting(WatchEvent::getType)
                .containsExactly(WatchEvent.TypeEnum.REGISTER_DELETED, WatchEvent.TypeEnum.REGISTER_DELETED);
        assertThat(after.getEvents().get(1).getCause()).isEqualTo("sessionClosed");
    }

    @Test
    void aRefusalIsAnApiExceptionWithItsStatusAndTheErrorBody() {
        ClientApi api = new ClientApi(http);
        assertThatThrownBy(() -> api.acquire(
                        new AcquireRequest().session("no such session").name("x")))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isBetween(400, 499);
                    assertThat(e.getResponseBody()).contains("\"error\"", "\"code\"");
                });
    }

    @Test
    void theOperatorAndOpenAnswersReadAsTheirSchemas() throws Exception {
        OperatorApi operator = new OperatorApi(http);
        assertThat(operator.whoami().getAuthRequired()).isFalse();
        assertThat(operator.clusterStatus().getMembers()).hasSize(1);
        assertThat(operator.listLocks(null, null, null).getLocks()).isNotNull();
        assertThat(operator.listSessions(null, null).getSessions()).isNotNull();
        OpenApi open = new OpenApi(http);
        assertThat(open.health().getStatus()).hasToString("up");
        assertThat(open.ready().getReady()).isTrue();
        assertThat(open.nodeStatus().getRole()).isNotBlank();
        assertThat(open.digest().getDigest()).isNotBlank();
    }
}
