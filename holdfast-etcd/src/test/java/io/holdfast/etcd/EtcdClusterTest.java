package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What backs {@link io.holdfast.Capability#SURVIVES_NODE_FAILURE}: a real 3-member etcd cluster
 * loses its leader while a client holds a lock and another waits. The holder's session survives,
 * the waiter is granted on release with a larger token, and a client opened afterwards works.
 */
class EtcdClusterTest {
    private static final Pattern MEMBER = Pattern.compile("\"member_id\":\"(\\d+)\"");
    private static final Pattern LEADER = Pattern.compile("\"leader\":\"(\\d+)\"");

    private static List<EtcdServer> members;

    @BeforeAll
    static void startCluster() {
        members = EtcdServer.clusterOrSkip(3);
    }

    @AfterAll
    static void stopCluster() {
        if (members != null) {
            members.forEach(EtcdServer::stop);
        }
    }

    @Test
    void locksSurviveTheLossOfTheLeaderMember() throws Exception {
        String uri = "etcd://" + members.stream().map(EtcdServer::endpoint).collect(Collectors.joining(","));
        ClientOptions options = ClientOptions.builder()
                .sessionTtl(Duration.ofSeconds(4))
                .requestTimeout(Duration.ofSeconds(3))
                .build();
        EtcdServer leader = leader();
        try (LockClient holder = LockClient.open(uri, options);
                LockClient waiter = LockClient.open(uri, options)) {
            assertThat(holder.capabilities())
                    .as("the capabilities of a client of a 3-member cluster")
                    .contains(Capability.SURVIVES_NODE_FAILURE)
                    .containsAll(EtcdBackend.CAPABILITIES);
            Lease held = holder.lock("cluster/a").acquire(Duration.ofSeconds(10));
            CompletableFuture<Lease> next = waiter.lock("cluster/a").acquireAsync(Duration.ofSeconds(90));

            leader.stop();

            Duration twoTtls = options.sessionTtl().multipliedBy(2);
            await().pollInterval(Duration.ofMillis(100))
                    .during(twoTtls)
                    .atMost(twoTtls.plusSeconds(5))
                    .alias("the holder's lease to stay valid for two session TTLs after the leader died")
                    .until(() -> held.isValid() && !next.isDone());

            held.release();
            Lease granted = next.get(15, TimeUnit.SECONDS);
            assertThat(granted.fencingToken()).isGreaterThan(held.fencingToken());

            try (LockClient late = LockClient.open(uri, options)) {
                Lease other = late.lock("cluster/b").acquire(Duration.ofSeconds(10));
                assertThat(other.fencingToken()).isGreaterThan(granted.fencingToken());
                other.release();
            }
            granted.release();
        } finally {
            leader.start();
        }
    }

    /** The member that is the leader now, asked through etcd's JSON gateway. */
    private static EtcdServer leader() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        String leaderId = null;
        for (EtcdServer m : members) {
            HttpRequest status = HttpRequest.newBuilder(URI.create("http://" + m.endpoint() + "/v3/maintenance/status"))
                    .timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .build();
            String body =
                    http.send(status, HttpResponse.BodyHandlers.ofString()).body();
            Matcher member = MEMBER.matcher(body);
            Matcher leader = LEADER.matcher(body);
            assertThat(member.find() && leader.find())
                    .as("status of %s: %s", m.endpoint(), body)
                    .isTrue();
            if (member.group(1).equals(leader.group(1))) {
                return m;
            }
            leaderId = leader.group(1);
        }
        throw new AssertionError("no member says it is the leader (" + leaderId + ")");
    }
}
