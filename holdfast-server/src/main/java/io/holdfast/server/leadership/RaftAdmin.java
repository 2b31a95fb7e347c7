package io.holdfast.server.leadership;

import io.holdfast.internal.DaemonThreads;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * Ratis's "async" admin calls ({@code setConfigurationAsync}, {@code transferLeadershipAsync}),
 * made so that their caller can bound its wait. Ratis hands such a request to the division's
 * server executor and blocks the caller until it has been taken in; on a leader that had just
 * removed itself that wait was seen never to end (a node's close hung in its hand-over). So each
 * call is made on a daemon thread of its own, and the caller waits on the returned future, with
 * its own timeout.
 *
 * <p>Guarantees: the returned future completes as the call's own future does, or exceptionally
 * with what the call threw; the caller's thread never blocks in Ratis. Not guaranteed: that the
 * thread ends when the caller gives up (a call stuck in Ratis keeps its thread until Ratis lets go).
 */
public final class RaftAdmin {
    private RaftAdmin() {}

    /** Makes {@code call} on a thread of its own; see the class comment. */
    public static <T> CompletableFuture<T> offThread(Callable<CompletableFuture<T>> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = DaemonThreads.thread(
                () -> {
                    try {
                        call.call().whenComplete((v, e) -> {
                            if (e != null) {
                                result.completeExceptionally(e);
                            } else {
                                result.complete(v);
                            }
                        });
                    } catch (Exception | Error e) {
                        result.completeExceptionally(e);
                    }
                },
                "holdfast-raft-admin");
        t.start();
        return result;
    }
}
