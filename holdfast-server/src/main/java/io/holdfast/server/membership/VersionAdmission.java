package io.holdfast.server.membership;

import io.holdfast.ConflictException;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Causes;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The leader's check before a node becomes a voter ({@code holdfast members add} without {@code
 * --learner}, {@code members promote}): the node must have reported, through the log, a protocol
 * version at least the cluster's ({@link VersionReport}; a new member reports before it is added,
 * to the leader its {@code --peers} name). So a voter of an older build is refused in one line
 * naming both versions instead of joining and stopping at the first entry it cannot read, and a
 * member being added never lowers the cluster's version: it is not a voter until it reported.
 *
 * <p>Waits up to {@link #WAIT} for the report (a node started a moment before the command has not
 * reported yet), then refuses with a {@link ConflictException}; the members stay as they were.
 *
 * <p>Not guaranteed: reports are kept after a member is removed, so a node added again under the
 * id of a removed member is judged by that member's last report until its own arrives. A node of
 * an older build let in so still does no harm to the others: it stops at the first entry it cannot
 * read (docs/operations.md), and the cluster's version does not drop.
 */
public final class VersionAdmission {
    /** How long the leader waits for the node's report. */
    static final Duration WAIT = Duration.ofSeconds(10);

    private static final long POLL_MILLIS = 100;

    private final ClusterVersion version;
    private final Ticker ticker;

    public VersionAdmission(ClusterVersion version, Ticker ticker) {
        this.version = version;
        this.ticker = ticker;
    }

    /**
     * Completes once {@code id} reported a version at least the cluster's; fails with a {@link
     * ConflictException} when it reported less, or nothing within {@link #WAIT}.
     *
     * @param what the change, as its refusal names it ({@code add n4 (Raft 10.0.0.4:4654, …)})
     */
    CompletableFuture<Void> admit(String id, String what) {
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        poll(id, what, ticker.nanos() + WAIT.toNanos(), admitted);
        return admitted;
    }

    private void poll(String id, String what, long deadline, CompletableFuture<Void> admitted) {
        try {
            Integer reported = version.reported(id);
            int cluster = version.clusterVersion();
            if (reported != null && reported >= cluster) {
                admitted.complete(null);
                return;
            }
            if (reported != null) {
                admitted.completeExceptionally(new ConflictException(
                        id + " speaks protocol version " + reported + " and the cluster speaks " + cluster
                                + "; start it with a build of version " + cluster + " or newer (docs/operations.md)",
                        -1));
                return;
            }
            if (ticker.nanos() - deadline >= 0) {
                admitted.completeExceptionally(new ConflictException(
                        id + " has not answered within " + WAIT.toSeconds()
                                + "s (a new member reports its protocol version as it starts): start it with"
                                + " --peers naming the members and itself, check that it reaches the leader,"
                                + " then try again",
                        -1));
                return;
            }
        } catch (java.io.IOException | RuntimeException e) {
            admitted.completeExceptionally(
                    new UnavailableException("cannot " + what + ": " + Causes.rootMessage(e), e));
            return;
        }
        Executor later = CompletableFuture.delayedExecutor(POLL_MILLIS, TimeUnit.MILLISECONDS);
        later.execute(() -> poll(id, what, deadline, admitted));
    }
}
