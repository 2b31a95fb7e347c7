package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness's nodes ({@link Nodes}), real {@link NodeMain} JVMs on loopback: when no leader
 * appears, the failure says what each node said at the last look, so a soak round that broke off
 * on CI (whose run directory is gone) tells why from its one line.
 */
class NodesTest {
    @TempDir
    Path dir;

    /** One member of three up: it cannot win an election, and the failure names every node's state. */
    @Test
    void noLeaderNamesWhatEachNodeSaid() throws Exception {
        Path hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
        List<Nodes.Spec> specs = new ArrayList<>();
        for (String id : List.of("n1", "n2", "n3")) {
            specs.add(new Nodes.Spec(
                    id,
                    FreePorts.next(),
                    FreePorts.next(),
                    FreePorts.next(),
                    dir.resolve("data").resolve(id),
                    hosts,
                    dir.resolve(id + ".log")));
        }
        try (Nodes nodes = new Nodes(specs, 3, List.of(), Duration.ofSeconds(1))) {
            nodes.start("n1", Duration.ofSeconds(60));

            assertThatThrownBy(() -> nodes.awaitLeader(Duration.ofSeconds(3)))
                    .isInstanceOf(IOException.class)
                    .hasMessageMatching("no leader within 3s \\(last seen: n1 (follower|candidate) term \\d+"
                            + " applied -?\\d+/-?\\d+; n2 down; n3 down\\)");
        }
        // Nodes closes in the background; the temporary directory goes only once n1 has exited
        // (its last lines still land in n1.log, and a directory written to is not deleted).
        Child.awaitBackgroundCloses();
    }
}
