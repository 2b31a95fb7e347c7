package io.holdfast.spi;

import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.DoubleBarrier;
import io.holdfast.Election;
import io.holdfast.GroupMembership;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.SessionListener;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.recipes.Recipes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * A {@link LockClient} whose recipes ({@link #election}, {@link #latch}, {@link #barrier}, {@link
 * #awaitFree}, {@link #group}, {@link #doubleBarrier}) and polling {@link #watch(WatchTarget,
 * WatchListener)} are those of {@link #recipes()}. A provider's client extends it, makes its {@link
 * Recipes} once with its own ticker, scheduler and executor, and writes the rest of the interface
 * itself (and its own {@code watch} where its service keeps a record of its changes).
 *
 * <p>It keeps the client's {@link SessionListener}s: a subclass tells them with {@link
 * #sessionLost} and {@link #sessionReestablished}, which deliver on the executor given, one call
 * at a time, in the order they were made. A subclass that never calls them must say so in its
 * javadoc (its listeners are then never told).
 */
public abstract class AbstractLockClient implements LockClient {
    private final List<SessionListener> sessionListeners = new CopyOnWriteArrayList<>();
    /** The calls to the session listeners not run yet, in order; guarded by itself. */
    private final java.util.ArrayDeque<Runnable> told = new java.util.ArrayDeque<>();
    /** Whether a task of {@link #told} is running or queued on an executor; guarded by {@link #told}. */
    private boolean telling;

    /** For subclasses. */
    protected AbstractLockClient() {}

    @Override
    public void addSessionListener(SessionListener listener) {
        if (listener == null) {
            throw new InvalidArgumentException("the session listener must not be null");
        }
        sessionListeners.add(listener);
    }

    @Override
    public void removeSessionListener(SessionListener listener) {
        sessionListeners.remove(listener);
    }

    /**
     * Tells every session listener that session {@code oldId} was lost, on {@code callbacks}, after
     * every call told before.
     */
    protected final void sessionLost(String oldId, String cause, Executor callbacks) {
        tell(l -> l.lost(oldId, cause), callbacks);
    }

    /**
     * Tells every session listener that the session {@code newId} is open, on {@code callbacks},
     * after every call told before.
     */
    protected final void sessionReestablished(String newId, Executor callbacks) {
        tell(l -> l.reestablished(newId), callbacks);
    }

    private void tell(Consumer<SessionListener> call, Executor callbacks) {
        List<SessionListener> now = List.copyOf(sessionListeners);
        synchronized (told) {
            told.add(() -> {
                for (SessionListener l : now) {
                    try {
                        call.accept(l);
                    } catch (RuntimeException e) {
                        Thread self = Thread.currentThread();
                        self.getUncaughtExceptionHandler().uncaughtException(self, e);
                    }
                }
            });
            if (telling) {
                return; // the running drain takes it, in order
            }
            telling = true;
        }
        try {
            callbacks.execute(this::drainTold);
        } catch (RejectedExecutionException closed) {
            drainTold(); // the client is closing: told on this thread
        }
    }

    /** Runs the queued calls one after another, until none is left. */
    private void drainTold() {
        while (true) {
            Runnable next;
            synchronized (told) {
                next = told.poll();
                if (next == null) {
                    telling = false;
                    return;
                }
            }
            next.run();
        }
    }

    /** This client's recipes, made with its own ticker and scheduler; the same object every call. */
    protected abstract Recipes recipes();

    @Override
    public Election election(String name) {
        return recipes().election(name);
    }

    @Override
    public DistributedLatch latch(String name) {
        return recipes().latch(name);
    }

    @Override
    public DistributedBarrier barrier(String name, int parties) {
        return recipes().barrier(name, parties);
    }

    @Override
    public GroupMembership group(String group) {
        return recipes().group(group);
    }

    @Override
    public DoubleBarrier doubleBarrier(String name, int parties) {
        return recipes().doubleBarrier(name, parties);
    }

    /** Polls the watched state on this client's clock and threads ({@link Recipes#watch}). */
    @Override
    public Watch watch(WatchTarget target, WatchListener listener) {
        return recipes().watch(target, listener);
    }

    @Override
    public boolean awaitFree(String name, Duration timeout) throws InterruptedException {
        return recipes().awaitFree(name, timeout);
    }
}
