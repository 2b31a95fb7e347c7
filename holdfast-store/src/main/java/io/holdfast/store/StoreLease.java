package io.holdfast.store;

import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.NotOwnerException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

/** A lease over a store grant: its state, its loss listeners and its renewal watchdog. */
final class StoreLease implements Lease {
    private enum State {
        HELD,
        RELEASED,
        LOST
    }

    private final StoreLockClient client;
    private final Grant grant;
    private final List<Consumer<? super LockLostException>> listeners = new ArrayList<>();
    private State state = State.HELD;
    private String lostWhy;
    private ScheduledFuture<?> watchdog;
    private volatile long lastRenewedNanos;

    StoreLease(StoreLockClient client, Grant grant, long grantedAtNanos) {
        this.client = client;
        this.grant = grant;
        this.lastRenewedNanos = grantedAtNanos;
    }

    Grant grant() {
        return grant;
    }

    @Override
    public String name() {
        return grant.request().name();
    }

    @Override
    public LockMode mode() {
        return grant.request().mode();
    }

    @Override
    public int permits() {
        return grant.request().permits();
    }

    @Override
    public long fencingToken() {
        return grant.token();
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
        if (listener == null) {
            throw new io.holdfast.InvalidArgumentException("listener must not be null");
        }
        boolean now;
        synchronized (this) {
            now = state == State.LOST;
            if (!now) {
                listeners.add(listener);
            }
        }
        if (now) {
            LockLostException e = lost();
            client.runCallback(() -> listener.accept(e));
        }
    }

    @Override
    public void release() {
        synchronized (this) {
            if (state == State.RELEASED) {
                return;
            }
            if (state == State.LOST) {
                throw lost();
            }
            state = State.RELEASED;
            stopWatchdog();
        }
        client.forget(this);
        if (!client.releaseInStore(grant)) {
            throw new LockLostException(describe() + " was lost before it was released: the store no longer had it");
        }
    }

    @Override
    public CompletableFuture<Void> releaseAsync() {
        return client.runAsync(this::release);
    }

    @Override
    public void close() {
        release();
    }

    /** Marks it released without talking to the store (the client is closing or crashed). */
    void dropQuietly() {
        synchronized (this) {
            if (state != State.HELD) {
                return;
            }
            state = State.RELEASED;
            stopWatchdog();
        }
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
        client.forget(this);
        LockLostException e = lost();
        for (Consumer<? super LockLostException> listener : toCall) {
            client.runCallback(() -> listener.accept(e));
        }
    }

    synchronized void startWatchdog(Duration every) {
        if (state == State.HELD && every != null) {
            watchdog = client.schedule(this::renewOnce, Math.max(10, every.toMillis()));
        }
    }

    /**
     * One watchdog round. The lease counts as lost once no renewal has been acknowledged for a
     * whole expiry, measured from the moment the last acknowledged renewal was sent: by then the
     * store may have given the lock to someone else.
     */
    private void renewOnce() {
        if (!isValid()) {
            return;
        }
        long sent = client.nanos();
        Duration expiry = grant.request().expiry();
        if (sent - lastRenewedNanos >= expiry.toNanos()) {
            markLost("no renewal was acknowledged within its expiry of " + expiry.toMillis() + " ms");
            return;
        }
        if (client.crashed()) {
            return;
        }
        try {
            if (client.renewInStore(grant)) {
                lastRenewedNanos = Math.max(lastRenewedNanos, sent);
            } else if (isValid()) {
                markLost("the store no longer has it (it expired or was revoked)");
            }
        } catch (RuntimeException e) {
            client.logRenewFailure(this, e);
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

    String describe() {
        return grant.request().describe() + " (token " + grant.token() + ")";
    }

    @Override
    public String toString() {
        synchronized (this) {
            return "Lease[" + describe() + ", " + state + "]";
        }
    }
}
