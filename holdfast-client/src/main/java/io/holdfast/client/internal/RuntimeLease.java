package io.holdfast.client.internal;

import io.holdfast.ErrorCode;
import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.NotOwnerException;
import io.holdfast.core.Command;
import io.holdfast.core.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A lease of the runtime: its state, its loss listeners and its renewal watchdog. */
final class RuntimeLease implements Lease {
    private enum State {
        HELD,
        RELEASED,
        LOST
    }

    private final ClientRuntime rt;
    private final String name;
    private final LockMode mode;
    private final int permits;
    private final long token;
    private final long leaseMillis;
    private final List<Consumer<? super LockLostException>> listeners = new ArrayList<>();
    private State state = State.HELD;
    private String lostWhy;
    private ScheduledFuture<?> watchdog;
    private volatile long lastRenewedNanos;

    RuntimeLease(ClientRuntime rt, String name, LockMode mode, int permits, long token, long leaseMillis) {
        this.rt = rt;
        this.name = name;
        this.mode = mode;
        this.permits = permits;
        this.token = token;
        this.leaseMillis = leaseMillis;
        this.lastRenewedNanos = rt.options().ticker().nanos();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LockMode mode() {
        return mode;
    }

    @Override
    public int permits() {
        return permits;
    }

    @Override
    public long fencingToken() {
        return token;
    }

    @Override
    public synchronized boolean isValid() {
        return state == State.HELD;
    }

    @Override
    public synchronized void checkValid() {
        if (state == State.LOST) {
            throw lost();
        }
        if (state == State.RELEASED) {
            throw new NotOwnerException(describe() + " was released");
        }
    }

    @Override
    public void onLost(Consumer<? super LockLostException> listener) {
        boolean now;
        synchronized (this) {
            now = state == State.LOST;
            if (!now) {
                listeners.add(listener);
            }
        }
        if (now) {
            LockLostException e = lost();
            rt.runCallback(() -> listener.accept(e));
        }
    }

    @Override
    public void release() {
        ClientRuntime.join(sendRelease());
    }

    @Override
    public CompletableFuture<Void> releaseAsync() {
        return rt.toCaller(sendRelease());
    }

    /**
     * The release; its future completes on a transport thread, so never hand it to a caller. When
     * its outcome stays unknown, the caller hears {@link io.holdfast.UnavailableException} and the
     * release is sent again in the background until the service answers ({@link
     * ClientRuntime#untilKnown}).
     */
    private CompletableFuture<Void> sendRelease() {
        synchronized (this) {
            if (state == State.RELEASED) {
                return CompletableFuture.completedFuture(null);
            }
            if (state == State.LOST) {
                return CompletableFuture.failedFuture(lost());
            }
            state = State.RELEASED;
            stopWatchdog();
        }
        rt.forget(this);
        CompletableFuture<Reply> sent;
        try {
            sent = rt.untilKnown(seq -> new Command.Release(0, rt.invocation(seq), name, token), null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sent.thenApply(reply -> {
            if (reply instanceof Reply.Failed f) {
                if (f.code() == ErrorCode.NOT_OWNER || f.code() == ErrorCode.SESSION_EXPIRED) {
                    throw new LockLostException(describe() + " was lost before it was released: " + f.message());
                }
                throw ClientRuntime.failure(reply);
            }
            return null;
        });
    }

    @Override
    public void close() {
        release();
    }

    /** Gives the lease back without reporting anything (a grant nobody wanted). */
    void releaseQuietly() {
        sendRelease().exceptionally(e -> null);
    }

    void markReleased() {
        synchronized (this) {
            if (state != State.HELD) {
                return;
            }
            state = State.RELEASED;
            stopWatchdog();
        }
        rt.forget(this);
    }

    void markLost(String why) {
        List<Consumer<? super LockLostException>> toCall;
        synchronized (this) {
            if (state != State.HELD) {
                return;
            }
            state = State.LOST;
            lostWhy = why;
            stopWatchdog();
            toCall = new ArrayList<>(listeners);
            listeners.clear();
        }
        rt.forget(this);
        LockLostException e = lost();
        for (Consumer<? super LockLostException> listener : toCall) {
            rt.runCallback(() -> listener.accept(e));
        }
    }

    synchronized void startWatchdog(ScheduledExecutorService scheduler) {
        long period = Math.max(10, leaseMillis / 3);
        try {
            watchdog = scheduler.scheduleWithFixedDelay(this::renew, 0, period, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the client is closing; the lease goes with it
        }
    }

    private void renew() {
        long sent = rt.options().ticker().nanos();
        if (!isValid()) {
            return;
        }
        if (sent - lastRenewedNanos >= TimeUnit.MILLISECONDS.toNanos(leaseMillis)) {
            markLost("no renewal was acknowledged within its lease timeout");
            return;
        }
        try {
            rt.callOnce(seq -> new Command.Renew(0, rt.invocation(seq), name, token))
                    .whenComplete((reply, error) -> {
                        if (reply instanceof Reply.Ok) {
                            lastRenewedNanos = Math.max(lastRenewedNanos, sent);
                        } else if (reply instanceof Reply.Failed f) {
                            markLost("the service refused to renew it: " + f.message());
                        }
                    });
        } catch (RuntimeException e) {
            markLost("the session is gone: " + e.getMessage());
        }
    }

    private void stopWatchdog() {
        if (watchdog != null) {
            watchdog.cancel(false);
            watchdog = null;
        }
    }

    private LockLostException lost() {
        return new LockLostException(describe() + " was lost: " + lostWhy);
    }

    private String describe() {
        return (mode == LockMode.PERMITS ? permits + " permits of " : "lock ") + name + " (token " + token + ")";
    }

    @Override
    public String toString() {
        synchronized (this) {
            return "Lease[" + describe() + ", " + state + "]";
        }
    }
}
