package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The rows of docs/keys.md's table "From etcd, ZooKeeper and Curator" that say how long a key lives
 * (ZooKeeper's ephemeral node and its {@code setData}, etcd's {@code Put} with and without its
 * lease), pinned: each row's Holdfast column is the call this test makes, and the call does what the
 * row's left column does in ZooKeeper or etcd (issue 70: the {@code setData} row made an ephemeral
 * node persistent, so its entry stayed after its owner's SIGKILL).
 */
class KeysMappingTableTest {
    private static final AtomicInteger STORES = new AtomicInteger();
    private static final byte[] DATA = "10.0.0.17".getBytes(StandardCharsets.UTF_8);

    /** The table's rows: the left column's text to the right column's. */
    private static Map<String, String> rows() throws Exception {
        Map<String, String> rows = new LinkedHashMap<>();
        boolean inTable = false;
        for (String line : Files.readAllLines(Path.of("..", "docs", "keys.md"))) {
            if (line.startsWith("## From etcd, ZooKeeper and Curator")) {
                inTable = true;
            } else if (inTable && line.startsWith("| ") && !line.startsWith("| ---")) {
                String[] cells = line.split(" \\| ", 2);
                rows.put(cells[0].substring(2).trim(), cells[1].substring(0, cells[1].length() - 2));
            }
        }
        assertThat(rows).as("the table of docs/keys.md").isNotEmpty();
        return rows;
    }

    @Test
    void zooKeepersSetDataKeepsAnEphemeralNodeItsSessions() throws Exception {
        Map<String, String> rows = rows();
        assertThat(rows.get("ZooKeeper `create(path, data, EPHEMERAL)`"))
                .isEqualTo("`keys.put(path, data, PutOptions.ifAbsent().attach())`");
        assertThat(rows.get("ZooKeeper `setData(path, data, version)`"))
                .startsWith("`keys.put(path, data, PutOptions.ifVersion(version))`");
        String backend = "mem:mapping-" + STORES.incrementAndGet();
        try (LockClient observer = LockClient.open(backend)) {
            String path = "services/web/i-17";
            try (LockClient owner = LockClient.open(backend)) {
                long version = owner.keys()
                        .put(path, DATA, PutOptions.ifAbsent().attach())
                        .version();
                observer.keys().put(path, DATA, PutOptions.ifVersion(version)); // setData by another client
                owner.keys().put(path, DATA, PutOptions.ifVersion(version + 1)); // and by its owner
                assertThat(observer.keys().get(path).orElseThrow().owner()).isEqualTo(owner.sessionId());
            }
            assertThat(observer.keys().get(path)).as("gone with its session").isEmpty();
        }
    }

    @Test
    void etcdsPutDetachesALeasedKeyAndWithIgnoreLeaseKeepsIt() throws Exception {
        Map<String, String> rows = rows();
        assertThat(rows.get("etcd `Put(key, value)`")).startsWith("`keys.put(key, value, PutOptions.any().detach())`");
        assertThat(rows.get("etcd `Put(key, value, WithIgnoreLease)`")).startsWith("`keys.put(key, value)`");
        String backend = "mem:mapping-" + STORES.incrementAndGet();
        try (LockClient observer = LockClient.open(backend)) {
            try (LockClient leased = LockClient.open(backend)) {
                leased.keys().put("cfg/kept", DATA, PutOptions.any().attach());
                leased.keys().put("cfg/detached", DATA, PutOptions.any().attach());
                leased.keys().put("cfg/kept", DATA);
                leased.keys().put("cfg/detached", DATA, PutOptions.any().detach());
            }
            assertThat(observer.keys().get("cfg/kept"))
                    .as("WithIgnoreLease: gone with the lease")
                    .isEmpty();
            assertThat(observer.keys().get("cfg/detached"))
                    .as("Put: outlives the lease")
                    .isPresent();
        }
    }

    @Test
    void etcdsPutWithLeaseFromAnotherClientGoesWithTheLeaseNotTheWriter() throws Exception {
        Map<String, String> rows = rows();
        assertThat(rows.get("etcd `Put(key, value, WithLease(id))` from another client"))
                .startsWith("`keys.put(key, value, PutOptions.any().lease(id))`");
        String backend = "mem:mapping-" + STORES.incrementAndGet();
        try (LockClient observer = LockClient.open(backend);
                LockClient lease = LockClient.open(backend)) {
            try (LockClient writer = LockClient.open(backend)) {
                assertThat(writer.keys()
                                .put("svc/a", DATA, PutOptions.any().lease(lease.sessionId()))
                                .owner())
                        .isEqualTo(lease.sessionId());
            }
            assertThat(observer.keys().get("svc/a").orElseThrow().owner())
                    .as("the writer's end leaves the lease's key")
                    .isEqualTo(lease.sessionId());
            lease.close();
            assertThat(observer.keys().get("svc/a")).as("gone with the lease").isEmpty();
        }
    }
}
