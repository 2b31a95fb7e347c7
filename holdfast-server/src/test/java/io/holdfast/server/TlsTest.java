package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import io.holdfast.tls.CertificateAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the client port and mutual TLS on the Raft port: clients with the right CA (and, where
 * asked for, a certificate from it) are served; plaintext clients, clients that trust another CA,
 * clients without a certificate where one is required, and processes speaking plaintext Raft to a
 * TLS node are refused, while the others keep being served.
 */
class TlsTest {
    private static final ClientOptions QUICK = ClientOptions.builder()
            .requestTimeout(Duration.ofMillis(500))
            .retryPolicy(RetryPolicy.none())
            .build();

    @TempDir
    Path tmp;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private TestCluster cluster(int size, TlsFiles.ClientAuth auth) throws Exception {
        TestCluster c = new TestCluster(size, Set.of(), new TestTls(auth));
        closing.add(c);
        c.awaitLeader(Duration.ofSeconds(20));
        return c;
    }

    private LockClient open(String uri, ClientOptions options) {
        LockClient client = LockClient.open(uri, options);
        closing.add(client);
        return client;
    }

    private static String members(TestCluster c) {
        String uri = c.uri();
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    @Test
    void aClientWithTheCaAndItsCertificateIsServedOverTls() throws Exception {
        TestCluster c = cluster(1, TlsFiles.ClientAuth.REQUIRE);
        LockClient client = open(c.uri(), ClientOptions.defaults());
        DistributedLock lock = client.lock("tls/a");
        try (Lease lease = lock.acquire(Duration.ofSeconds(5))) {
            assertThat(lease.fencingToken()).isPositive();
            assertThat(client.admin().describe("tls/a")).isPresent();
        }
    }

    @Test
    void plaintextAndWrongCaAndMissingCertificatesAreRefusedWhileOthersAreServed() throws Exception {
        TestCluster c = cluster(1, TlsFiles.ClientAuth.REQUIRE);
        LockClient good = open(c.uri(), ClientOptions.defaults());

        // Plaintext to a TLS port: the handshake never happens, nothing is served.
        assertThatThrownBy(() -> open(members(c), QUICK)).isInstanceOf(UnavailableException.class);

        // A client that trusts another CA does not accept the node's certificate.
        CertificateAuthority other = CertificateAuthority.create("other-ca", Duration.ofDays(1));
        other.write(tmp);
        other.issue("mallory", List.of(), Duration.ofDays(1)).write(tmp, "mallory");
        assertThatThrownBy(() -> open(members(c) + "?ca=" + tmp.resolve("ca.pem"), QUICK))
                .isInstanceOf(UnavailableException.class);

        // The right CA, but no client certificate where one is required.
        Path serverCa = c.node(0).config().tls().trustedCa();
        assertThatThrownBy(() -> open(members(c) + "?ca=" + serverCa, QUICK)).isInstanceOf(UnavailableException.class);

        // The right CA, and a certificate from another CA.
        assertThatThrownBy(() -> open(
                        members(c) + "?ca=" + serverCa + "&cert=" + tmp.resolve("mallory.pem") + "&key="
                                + tmp.resolve("mallory-key.pem"),
                        QUICK))
                .isInstanceOf(UnavailableException.class);

        // The good client was never disturbed.
        try (Lease lease = good.lock("tls/b").acquire(Duration.ofSeconds(5))) {
            assertThat(lease.fencingToken()).isPositive();
        }
    }

    @Test
    void withOptionalClientAuthAClientWithoutACertificateIsServed() throws Exception {
        TestCluster c = cluster(1, TlsFiles.ClientAuth.OPTIONAL);
        Path ca = c.node(0).config().tls().trustedCa();
        LockClient client = open(members(c) + "?ca=" + ca, ClientOptions.defaults());
        try (Lease lease = client.lock("tls/c").acquire(Duration.ofSeconds(5))) {
            assertThat(lease.fencingToken()).isPositive();
        }
    }

    @Test
    void aThreeNodeClusterReplicatesOverMutualTlsAndFailsOver() throws Exception {
        TestCluster c = cluster(3, TlsFiles.ClientAuth.REQUIRE);
        LockClient client = open(c.uri(), ClientOptions.defaults());
        long first;
        try (Lease lease = client.lock("tls/d").acquire(Duration.ofSeconds(5))) {
            first = lease.fencingToken();
        }
        int leader = c.leaderIndex();
        long applied = c.node(leader).status().appliedIndex();
        org.awaitility.Awaitility.await("followers apply over TLS")
                .atMost(Duration.ofSeconds(10))
                .until(() -> {
                    for (int i = 0; i < c.size(); i++) {
                        if (c.node(i).status().appliedIndex() < applied) {
                            return false;
                        }
                    }
                    return true;
                });
        c.stop(leader);
        c.awaitLeader(Duration.ofSeconds(20));
        try (Lease lease = client.lock("tls/d").acquire(Duration.ofSeconds(20))) {
            assertThat(lease.fencingToken()).isGreaterThan(first);
        }
    }

    /**
     * Ratis's own client protocol is served on the Raft port; without mutual TLS, anyone who
     * reaches that port could append entries to the log. With TLS on, a plaintext Ratis client
     * gets nothing in, and the table is unchanged.
     */
    @Test
    void aPlaintextRaftClientCannotWriteToTheLog() throws Exception {
        TestCluster c = cluster(1, TlsFiles.ClientAuth.REQUIRE);
        HoldfastServer node = c.node(0);
        // The node's own entries of its first term (its version report, the cluster's id) are in
        // before the digest is taken: only the plaintext client could change the table after it.
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .until(() -> node.status().clusterId() != null
                        && node.parts().machine().read(t -> t.memberVersions().containsKey("n1")));
        String digest = node.parts().machine().digest();
        ServerConfig.Peer self = node.config().self();
        RaftGroup group = RaftGroup.valueOf(
                RaftSettings.GROUP_ID,
                RaftPeer.newBuilder()
                        .setId(RaftPeerId.valueOf("n1"))
                        .setAddress(self.raftAddress())
                        .build());
        RaftProperties props = new RaftProperties();
        org.apache.ratis.client.RaftClientConfigKeys.Rpc.setRequestTimeout(
                props, org.apache.ratis.util.TimeDuration.valueOf(500, TimeUnit.MILLISECONDS));
        try (RaftClient raw = RaftClient.newBuilder()
                .setRaftGroup(group)
                .setProperties(props)
                .setRetryPolicy(org.apache.ratis.retry.RetryPolicies.noRetry())
                .build()) {
            assertThatThrownBy(() -> raw.io().send(Message.valueOf("garbage"))).isInstanceOf(Exception.class);
        }
        assertThat(node.parts().machine().digest()).isEqualTo(digest);
    }

    @Test
    void aNodeWhoseTlsFilesAreMissingDoesNotStartAndSaysWhichFile() throws Exception {
        TestTls tls = new TestTls(TlsFiles.ClientAuth.NONE);
        Files.delete(tls.file("n1-key.pem"));
        ServerConfig config = ServerConfig.single(tmp.resolve("data"), "127.0.0.1", 0, TestCluster.freePort(), -1)
                .withTls(tls.node("n1"), TlsFiles.ClientAuth.NONE);
        assertThatThrownBy(() -> HoldfastServer.start(config))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("TLS private key")
                .hasMessageContaining("n1-key.pem does not exist");

        Files.writeString(
                tls.file("n1-key.pem"), "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> HoldfastServer.start(config))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("holds no EC, RSA or Ed25519 private key");
    }
}
