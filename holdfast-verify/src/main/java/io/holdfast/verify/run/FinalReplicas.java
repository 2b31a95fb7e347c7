package io.holdfast.verify.run;

import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Replica;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The replicas as a run leaves them: one {@link Replica} record per node, for the {@code replicas}
 * checker, which compares their tables. Read after the clients are closed, so that the log stops
 * moving; a node that gives no reading gets no record.
 */
final class FinalReplicas {
    private FinalReplicas() {}

    /**
     * Records every node's applied index and table checksum, once they all show the same index (the
     * clients are closed, so the log stops moving), or the last readings after 15 s.
     */
    static void record(Nodes nodes, History.Writer harness) throws InterruptedException {
        Map<String, String> last = new LinkedHashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            last.clear();
            Set<String> indexes = new HashSet<>();
            for (String id : nodes.ids()) {
                nodes.digest(id).ifPresent(d -> last.put(id, d));
            }
            last.values().forEach(d -> indexes.add(d.substring(0, d.indexOf(':'))));
            if (last.size() == nodes.ids().size() && indexes.size() == 1) {
                break;
            }
            Thread.sleep(200);
        }
        last.forEach((id, d) -> harness.append(new Replica(
                System.nanoTime(),
                id,
                Long.parseLong(d.substring(0, d.indexOf(':'))),
                d.substring(d.indexOf(':') + 1),
                nodes.status(id).map(Nodes.Status::term).orElse(0L))));
    }
}
