package io.holdfast.zookeeper;

import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.KeeperException.Code;

/**
 * Calls to ZooKeeper bounded by the client's request timeout: every operation runs in Curator's
 * background mode and is waited for at most that long, so a silent server gives {@link
 * UnavailableException} instead of a hang. The wait is not interruptible (it is short); a caller
 * that waits longer (for a watch) checks for interrupts itself.
 */
final class Zk {
    /** Starts one background operation that reports to {@code callback}. */
    @FunctionalInterface
    interface Op {
        void start(BackgroundCallback callback) throws Exception;
    }

    private final Duration timeout;

    Zk(Duration timeout) {
        this.timeout = timeout;
    }

    /** Starts {@code op}; the future completes with its event. */
    CompletableFuture<CuratorEvent> start(String what, Op op) {
        CompletableFuture<CuratorEvent> future = new CompletableFuture<>();
        try {
            op.start((client, event) -> future.complete(event));
        } catch (Exception e) {
            throw unavailable(what + " could not be sent", e);
        }
        return future;
    }

    /**
     * Runs {@code op} and returns its event, whose result code is OK or one of {@code expected};
     * every other code (connection loss, session expiry, timeouts) is {@link UnavailableException}.
     */
    CuratorEvent call(String what, Op op, Code... expected) {
        return await(what, start(what, op), expected);
    }

    /** Waits for an operation started with {@link #start}; see {@link #call}. */
    CuratorEvent await(String what, CompletableFuture<CuratorEvent> future, Code... expected) {
        CuratorEvent event;
        boolean interrupted = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                try {
                    event = future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (TimeoutException e) {
                    throw new UnavailableException(
                            "zookeeper: " + what + " got no answer within " + timeout.toMillis() + " ms");
                } catch (ExecutionException e) {
                    throw unavailable(what + " failed", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        Code code = Code.get(event.getResultCode());
        if (code == Code.OK) {
            return event;
        }
        for (Code c : expected) {
            if (c == code) {
                return event;
            }
        }
        if (code == Code.NOAUTH) {
            // Not worth a retry: the node belongs to another ZooKeeper user (see ZooKeeperBackend's ACLs).
            throw new io.holdfast.PermissionDeniedException("zookeeper: " + what + " failed: NOAUTH (the nodes"
                    + " belong to another ZooKeeper user, or to clients that authenticate when this one does not;"
                    + " give each user a chroot of its own)");
        }
        throw new UnavailableException("zookeeper: " + what + " failed: " + code);
    }

    static Code code(CuratorEvent event) {
        return Code.get(event.getResultCode());
    }

    static UnavailableException unavailable(String what, Throwable cause) {
        return new UnavailableException("zookeeper: " + what + ": " + cause, cause);
    }
}
