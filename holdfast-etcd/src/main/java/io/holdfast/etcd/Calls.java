package io.holdfast.etcd;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.lease.NoSuchLeaseException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.holdfast.UnavailableException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Every call to etcd goes through here: bounded by the request timeout, and every failure of the
 * driver (gRPC status, jetcd exceptions, a timeout) turned into {@link UnavailableException}. No
 * raw driver exception leaves the provider.
 */
final class Calls {
    private final Duration timeout;
    private final String where;
    private volatile boolean stopped;

    Calls(Duration timeout, String where) {
        this.timeout = timeout;
        this.where = where;
    }

    /** Calls to the same place with another timeout (opening uses the client's connect timeout). */
    Calls within(Duration other) {
        return new Calls(other, where);
    }

    /** After this, every call fails at once without reaching the store (an abandoned client). */
    void stop() {
        stopped = true;
    }

    boolean stopped() {
        return stopped;
    }

    /** Runs a call and waits for it; an interrupt becomes {@link InterruptedException}. */
    <T> T awaitInterruptibly(String what, Supplier<CompletableFuture<T>> call) throws InterruptedException {
        CompletableFuture<T> future = start(what, call);
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            future.cancel(true);
            throw e;
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new UnavailableException(
                    "etcd at " + where + " did not answer " + what + " within " + timeout.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            throw unavailable(what, e.getCause());
        } catch (CancellationException e) {
            throw unavailable(what, e);
        }
    }

    /** Runs a call and waits for it; an interrupt keeps the thread's flag and gives {@link UnavailableException}. */
    <T> T await(String what, Supplier<CompletableFuture<T>> call) {
        try {
            return awaitInterruptibly(what, call);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while waiting for etcd (" + what + ")", e);
        }
    }

    private <T> CompletableFuture<T> start(String what, Supplier<CompletableFuture<T>> call) {
        if (stopped) {
            throw new UnavailableException("the etcd client was stopped (" + what + ")");
        }
        try {
            return call.get();
        } catch (RuntimeException e) {
            throw unavailable(what, e);
        }
    }

    UnavailableException unavailable(String what, Throwable cause) {
        if (cause instanceof UnavailableException u) {
            return u;
        }
        return new UnavailableException("etcd at " + where + " failed " + what + ": " + describe(cause), cause);
    }

    /** Whether the failure says that an etcd lease does not exist (expired or revoked). */
    static boolean leaseNotFound(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NoSuchLeaseException) {
                return true;
            }
            if (t instanceof EtcdException ee
                    && ee.getErrorCode() == ErrorCode.NOT_FOUND
                    && String.valueOf(ee.getMessage()).contains("lease")) {
                return true;
            }
            if (t instanceof StatusRuntimeException s
                    && s.getStatus().getCode() == Status.Code.NOT_FOUND
                    && String.valueOf(s.getMessage()).contains("lease")) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        if (e == null) {
            return "unknown failure";
        }
        String message = e.getMessage();
        // gRPC's descriptions go on over several lines (a TLS failure lists the channel's pipeline):
        // the first line, then the deepest cause (the certificate problem), on one line.
        String first = message == null || message.isBlank()
                ? e.getClass().getSimpleName()
                : message.strip().lines().findFirst().orElse("");
        return io.holdfast.internal.Causes.withCause(first, e.getCause());
    }
}
