package io.holdfast.verify.run;

import io.holdfast.verify.history.FaultAction;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * What {@code snapshot-catch-up} observes between its faults: the leader's progress, and how a
 * restarted follower caught up (through a snapshot or the log only). It injects no fault; the one
 * thing it records is a {@code catch-up} line, which the {@code catch-up} checker reads to tell a
 * run that tested a snapshot install from one that did not.
 */
final class CatchUpNotes {
    private CatchUpNotes() {}

    /** Waits until the leader has applied {@code entries} more log entries, or {@code timeout}. */
    static void awaitProgress(Faults f, long entries, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long start = -1;
        while (System.nanoTime() < deadline) {
            Optional<Nodes.Status> st = f.nodes().status(f.leader());
            if (st.isPresent()) {
                if (start < 0) {
                    start = st.get().appliedIndex();
                } else if (st.get().appliedIndex() - start >= entries) {
                    return;
                }
            }
            Thread.sleep(200);
        }
    }

    /**
     * Waits (up to 30 s) until {@code node} has caught up with the leader, then records whether it
     * did so through a snapshot (its log says it loaded one), to show whether a catch-up scenario
     * tested what it meant to.
     */
    static void noteCatchUp(Faults f, String node) throws IOException, InterruptedException {
        Nodes nodes = f.nodes();
        long target = nodes.status(f.leader()).map(Nodes.Status::appliedIndex).orElse(Long.MAX_VALUE);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline && !nodes.loadedSnapshot(node)) {
            if (nodes.status(node).map(Nodes.Status::appliedIndex).orElse(-1L) >= target) {
                break;
            }
            Thread.sleep(200);
        }
        f.record(FaultAction.CATCH_UP, node, nodes.loadedSnapshot(node) ? "from a snapshot" : "from the log only");
    }
}
