package io.holdfast.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code zookeeper://user:password@...}: the client authenticates with ZooKeeper's digest scheme and
 * every node it creates is the creator's only, so that another user of the ensemble, or a client
 * without credentials, cannot delete or change a holder's node (ZooKeeper checks a delete against
 * the parent's ACL, which is the creator's too). Against a real ZooKeeper server in the test JVM.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZooKeeperAuthTest {
    private static final String CHROOT = "/holdfast-auth";
    private static ZooKeeperTestServer server;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = ZooKeeperTestServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private LockClient open(String userInfo) {
        LockClient client = LockClient.open(
                "zookeeper://" + userInfo + "127.0.0.1:" + server.port() + CHROOT,
                ClientOptions.builder().sessionTtl(Duration.ofSeconds(5)).build());
        closing.add(client);
        return client;
    }

    /** A plain ZooKeeper client of the same ensemble, as another application would have one. */
    private CuratorFramework raw(String digest) throws InterruptedException {
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                .connectString("127.0.0.1:" + server.port())
                .retryPolicy(new RetryOneTime(100));
        if (digest != null) {
            b.authorization("digest", digest.getBytes(StandardCharsets.UTF_8));
        }
        CuratorFramework c = b.build();
        c.start();
        closing.add(0, c);
        assertThat(c.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
        return c;
    }

    @Test
    void anotherUserCannotDeleteOrChangeAHoldersNode() throws Exception {
        LockClient alice = open("alice:alice-secret@");
        Lease lease = alice.lock("acl/x").acquire(Duration.ofSeconds(5));

        // Alice's own credentials find her node (the lock's parent holds the queue).
        CuratorFramework asAlice = raw("alice:alice-secret");
        String node = holdersNode(asAlice);
        List<ACL> acl = asAlice.getACL().forPath(node);
        assertThat(acl)
                .as("the queue node's ACL: alice's digest only")
                .singleElement()
                .satisfies(a -> assertThat(a.getId().getScheme()).isEqualTo("digest"))
                .satisfies(a -> assertThat(a.getId().getId()).startsWith("alice:"));

        CuratorFramework mallory = raw("mallory:mallory-secret");
        assertThatThrownBy(() -> mallory.delete().forPath(node)).isInstanceOf(KeeperException.NoAuthException.class);
        assertThatThrownBy(() -> mallory.setData().forPath(node, new byte[] {1}))
                .isInstanceOf(KeeperException.NoAuthException.class);
        CuratorFramework anonymous = raw(null);
        assertThatThrownBy(() -> anonymous.delete().forPath(node)).isInstanceOf(KeeperException.NoAuthException.class);

        assertThat(asAlice.checkExists().forPath(node))
                .as("the node is still there")
                .isNotNull();
        assertThat(lease.isValid()).isTrue();
        assertThat(alice.admin().isCurrentHolder("acl/x", lease.fencingToken())).isTrue();
        assertThatThrownBy(() -> open("bob:bob-secret@").lock("acl/x").tryAcquire())
                .as("another user, under alice's chroot")
                .isInstanceOf(io.holdfast.PermissionDeniedException.class)
                .hasMessageContaining("NOAUTH")
                .hasMessageContaining("chroot of its own");
        lease.release();
    }

    @Test
    void anotherUserCannotOverwriteOrDeleteARegister() throws Exception {
        LockClient alice = open("alice:alice-secret@");
        alice.register("acl/reg").compareAndSet(0, new byte[] {7});
        String node = CHROOT + ZooKeeperRegisters.REGISTERS + "/acl%2freg";
        CuratorFramework asAlice = raw("alice:alice-secret");
        assertThat(asAlice.getData().forPath(node))
                .as("the register's node, read by its owner")
                .containsExactly(7);

        CuratorFramework mallory = raw("mallory:mallory-secret");
        assertThatThrownBy(() -> mallory.setData().forPath(node, new byte[] {6}))
                .isInstanceOf(KeeperException.NoAuthException.class);
        assertThatThrownBy(() -> mallory.delete().forPath(node)).isInstanceOf(KeeperException.NoAuthException.class);
        assertThat(alice.register("acl/reg").get().orElseThrow().value()).containsExactly(7);
    }

    @Test
    void clientsOfOneUserShareLocks() throws Exception {
        LockClient first = open("alice:alice-secret@");
        LockClient second = open("alice:alice-secret@");
        Lease held = first.lock("acl/shared").acquire(Duration.ofSeconds(5));
        assertThat(second.lock("acl/shared").tryAcquire()).isEmpty();
        held.release();
        assertThat(second.lock("acl/shared").tryAcquire()).isPresent();
    }

    @Test
    void theUserIsCheckedAndThePasswordNeverShown() {
        assertThatThrownBy(() ->
                        LockClient.open("zookeeper://al ice:pw@127.0.0.1:" + server.port(), ClientOptions.defaults()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("malformed user")
                .message()
                .doesNotContain("pw@");
        assertThat(ZooKeeperUri.parse("zookeeper://alice:s3cret@h:2181/x").toString())
                .isEqualTo("zookeeper://alice:***@h:2181/x")
                .doesNotContain("s3cret");
    }

    /** The one queue node under the lock's parent (Holdfast keeps each lock's queue under its name). */
    private static String holdersNode(CuratorFramework asAlice) throws Exception {
        List<String> found = new ArrayList<>();
        collect(asAlice, CHROOT, found);
        assertThat(found).as("alice's queue node under " + CHROOT).hasSize(1);
        return found.get(0);
    }

    private static void collect(CuratorFramework c, String path, List<String> leaves) throws Exception {
        List<String> children = c.getChildren().forPath(path);
        if (children.isEmpty()) {
            if (c.checkExists().forPath(path).getEphemeralOwner() != 0) {
                leaves.add(path);
            }
            return;
        }
        for (String child : children) {
            collect(c, path + "/" + child, leaves);
        }
    }
}
