// Ceiling 460 lines, one idea: the multi-lock handle's two paths (one step, or sorted with give-back) for the
// blocking, try and async calls, and the unit lease they return.
package io.holdfast.lease;

import io.holdfast.AcquireOptions;
import io.holdfast.DeadlockException;
import io.holdfast.DistributedMultiLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.MultiLease;
import io.holdfast.NotOwnerException;
import io.holdfast.Ticker;
import io.holdfast.UnsupportedFeatureException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The multi-lock handle. With an engine that takes every name in one step ({@link GroupAcquirer},
 * the Holdfast server) it asks for them all at once. Otherwise the names are taken in their sorted
 * order, each within what is left of the one wait time, and whatever was taken is given back when a
 * later name cannot be; one global order means two multi-locks never wait for each other in a
 * cycle. The handle is built by {@link Handles#multiLock}, which has checked the names and mode.
 */
final class MultiLocks implements DistributedMultiLock {
    private final Acquirer acquirer;
    private final Ticker ticker;
    private final List<String> names;
    private final LockMode mode;

    MultiLocks(Acquirer acquirer, Ticker ticker, List<String> sortedNames, LockMode mode) {
        this.acquirer = acquirer;
        this.ticker = ticker;
        this.names = List.copyOf(sortedNames);
        this.mode = mode;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public LockMode mode() {
        return mode;
    }

    private LeaseRequest request(String name) {
        return new LeaseRequest(name, mode, 1, 1);
    }

    /** The options for the next name: what is left of the wait, the same lease timeout. */
    private AcquireOptions remaining(AcquireOptions options, long startNanos) {
        Duration left = options.waitTime().minusNanos(ticker.nanos() - startNanos);
        AcquireOptions next = AcquireOptions.waitUpTo(left.isNegative() ? Duration.ZERO : left);
        return options.leaseTimeout() == null ? next : next.withLeaseTimeout(options.leaseTimeout());
    }

    @Override
    public MultiLease acquire(AcquireOptions options) throws InterruptedException {
        Handles.checkOptions(acquirer, options);
        if (!(acquirer instanceof GroupAcquirer group)) {
            return nameByName(options);
        }
        long start = ticker.nanos();
        while (true) {
            try {
                List<Lease> leases = group.acquireAll(names, mode, remaining(options, start));
                if (leases == null) {
                    throw new LockTimeoutException("timed out waiting for " + String.join(", ", names));
                }
                return new Unit(leases);
            } catch (UnsupportedFeatureException notYet) {
                // The cluster does not take the one-step command yet: name by name.
            }
            try {
                return nameByName(remaining(options, start));
            } catch (DeadlockException mixed) {
                // Taken name by name while others' multi-locks wait in one step, it can meet one
                // of them in a cycle (it holds a name the other waits for, and waits behind it):
                // it gave everything back; try again, the cluster may take the one step by now.
                if (remaining(options, start).waitTime().isZero()) {
                    throw mixed;
                }
                Thread.sleep(RETRY_AFTER_DEADLOCK_MILLIS);
            }
        }
    }

    /** The pause before a multi-lock taken name by name tries again after a deadlock. */
    private static final long RETRY_AFTER_DEADLOCK_MILLIS = 20;

    private MultiLease nameByName(AcquireOptions options) throws InterruptedException {
        long start = ticker.nanos();
        List<Lease> taken = new ArrayList<>(names.size());
        try {
            for (String name : names) {
                taken.add(acquirer.acquire(request(name), remaining(options, start)));
            }
        } catch (InterruptedException | RuntimeException | Error e) {
            giveBack(taken);
            throw e;
        }
        return new Unit(taken);
    }

    @Override
    public Optional<MultiLease> tryAcquire() {
        if (acquirer instanceof GroupAcquirer group) {
            try {
                return group.tryAcquireAll(names, mode).map(leases -> (MultiLease) new Unit(leases));
            } catch (UnsupportedFeatureException notYet) {
                // The cluster does not take the one-step command yet: name by name, as below.
            }
        }
        List<Lease> taken = new ArrayList<>(names.size());
        try {
            for (String name : names) {
                Optional<Lease> lease = acquirer.tryAcquire(request(name));
                if (lease.isEmpty()) {
                    giveBack(taken);
                    return Optional.empty();
                }
                taken.add(lease.get());
            }
        } catch (RuntimeException | Error e) {
            giveBack(taken);
            throw e;
        }
        return Optional.of(new Unit(taken));
    }

    @Override
    public CompletableFuture<MultiLease> acquireAsync(AcquireOptions options) {
        Handles.checkOptions(acquirer, options);
        if (acquirer instanceof GroupAcquirer group) {
            CompletableFuture<MultiLease> result = new CompletableFuture<>();
            AtomicReference<CompletableFuture<?>> current = new AtomicReference<>();
            result.whenComplete((unit, error) -> {
                CompletableFuture<?> waiting = current.get();
                if (result.isCancelled() && waiting != null) {
                    waiting.cancel(true);
                }
            });
            inOneStep(group, options, ticker.nanos(), result, current);
            return result;
        }
        return nameByNameAsync(options);
    }

    private CompletableFuture<MultiLease> nameByNameAsync(AcquireOptions options) {
        CompletableFuture<MultiLease> result = new CompletableFuture<>();
        AtomicReference<CompletableFuture<Lease>> current = new AtomicReference<>();
        result.whenComplete((unit, error) -> {
            CompletableFuture<Lease> waiting = current.get();
            if (result.isCancelled() && waiting != null) {
                waiting.cancel(true);
            }
        });
        next(0, new ArrayList<>(names.size()), options, ticker.nanos(), current, result);
        return result;
    }

    private void next(
            int index,
            List<Lease> taken,
            AcquireOptions options,
            long start,
            AtomicReference<CompletableFuture<Lease>> current,
            CompletableFuture<MultiLease> result) {
        if (result.isDone()) {
            giveBack(taken);
            return;
        }
        if (index == names.size()) {
            if (!result.complete(new Unit(taken))) {
                giveBack(taken);
            }
            return;
        }
        CompletableFuture<Lease> step;
        try {
            step = acquirer.acquireAsync(request(names.get(index)), remaining(options, start));
        } catch (RuntimeException e) {
            giveBack(taken);
            result.completeExceptionally(e);
            return;
        }
        current.set(step);
        if (result.isDone()) {
            step.cancel(true);
        }
        step.whenComplete((lease, error) -> {
            if (error != null) {
                giveBack(taken);
                result.completeExceptionally(error);
            } else {
                taken.add(lease);
                next(index + 1, taken, options, start, current, result);
            }
        });
    }

    /**
     * One attempt of an asynchronous multi-lock with an engine that takes every name in one step;
     * {@code current} is the future being waited for, which a cancellation of {@code result}
     * cancels. If the cluster does not take the one-step command yet, the names are taken one by
     * one instead, and tried again after a deadlock with the one-step waits of others (as in {@link
     * #acquire(AcquireOptions)}).
     */
    private void inOneStep(
            GroupAcquirer group,
            AcquireOptions options,
            long start,
            CompletableFuture<MultiLease> result,
            AtomicReference<CompletableFuture<?>> current) {
        if (result.isDone()) {
            return;
        }
        CompletableFuture<List<Lease>> waiting = group.acquireAllAsync(names, mode, remaining(options, start));
        track(current, waiting, result);
        waiting.whenComplete((leases, error) -> {
            Throwable cause = unwrap(error);
            if (cause instanceof UnsupportedFeatureException && !result.isDone()) {
                CompletableFuture<MultiLease> one = nameByNameAsync(remaining(options, start));
                track(current, one, result);
                one.whenComplete((unit, e) -> {
                    Throwable failure = unwrap(e);
                    if (failure instanceof DeadlockException
                            && !result.isDone()
                            && !remaining(options, start).waitTime().isZero()) {
                        CompletableFuture.delayedExecutor(RETRY_AFTER_DEADLOCK_MILLIS, TimeUnit.MILLISECONDS)
                                .execute(() -> inOneStep(group, options, start, result, current));
                    } else if (failure != null) {
                        result.completeExceptionally(failure);
                    } else if (!result.complete(unit)) {
                        unit.release();
                    }
                });
            } else if (cause != null) {
                result.completeExceptionally(cause);
            } else if (leases == null) {
                result.completeExceptionally(
                        new LockTimeoutException("timed out waiting for " + String.join(", ", names)));
            } else if (!result.complete(new Unit(leases))) {
                giveBack(new ArrayList<>(leases));
            }
        });
    }

    private static void track(
            AtomicReference<CompletableFuture<?>> current, CompletableFuture<?> future, CompletableFuture<?> result) {
        current.set(future);
        if (result.isCancelled()) {
            future.cancel(true);
        }
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    /** Gives back, newest first, what a failed acquire had taken; failures only end in the leases' expiry. */
    private static void giveBack(List<Lease> taken) {
        for (int i = taken.size() - 1; i >= 0; i--) {
            try {
                taken.get(i).release();
            } catch (RuntimeException ignored) {
                // lost or unreachable: the store frees it at its expiry; nothing was handed to the caller
            }
        }
        taken.clear();
    }

    @Override
    public String toString() {
        return "MultiLock" + (mode == LockMode.SHARED ? "(shared)" : "") + names;
    }

    /**
     * The leases of one multi-lock, held and given back as a unit: when one of them is lost
     * (revoked, its lease timeout passed, its session ended), the others are given back at once,
     * and the unit reports itself lost.
     */
    private static final class Unit implements MultiLease {
        private final List<Lease> leases;
        private final Map<String, Long> tokens;
        private final AtomicBoolean released = new AtomicBoolean();
        private final AtomicBoolean lost = new AtomicBoolean();

        Unit(List<Lease> leases) {
            this.leases = List.copyOf(leases);
            Map<String, Long> t = new LinkedHashMap<>();
            for (Lease lease : leases) {
                t.put(lease.name(), lease.fencingToken());
            }
            this.tokens = Collections.unmodifiableMap(t);
            for (Lease lease : this.leases) {
                lease.onLost(lost -> giveBackTheRest());
            }
        }

        /** One lease was lost: the others are of no use alone. Failures end in their expiry. */
        private void giveBackTheRest() {
            if (released.get() || !lost.compareAndSet(false, true)) {
                return;
            }
            for (Lease lease : leases) {
                if (lease.isValid()) {
                    lease.releaseAsync().exceptionally(e -> null);
                }
            }
        }

        @Override
        public List<Lease> leases() {
            return leases;
        }

        @Override
        public Map<String, Long> fencingTokens() {
            return tokens;
        }

        @Override
        public boolean isValid() {
            for (Lease lease : leases) {
                if (!lease.isValid()) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void checkValid() {
            if (released.get()) {
                throw new NotOwnerException("the multi-lease of " + tokens.keySet() + " was released");
            }
            RuntimeException first = null;
            for (Lease lease : leases) {
                try {
                    lease.checkValid();
                } catch (LockLostException e) {
                    throw e; // before "released": the others were given back because of it
                } catch (RuntimeException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }

        @Override
        public void onLost(Consumer<? super LockLostException> listener) {
            if (listener == null) {
                throw new InvalidArgumentException("a loss listener must not be null");
            }
            AtomicBoolean told = new AtomicBoolean();
            for (Lease lease : leases) {
                lease.onLost(lost -> {
                    if (told.compareAndSet(false, true)) {
                        listener.accept(lost);
                    }
                });
            }
        }

        @Override
        public void release() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            RuntimeException first = null;
            for (Lease lease : leases) {
                try {
                    lease.release();
                } catch (RuntimeException e) {
                    if (first == null || (e instanceof LockLostException && !(first instanceof LockLostException))) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }

        @Override
        public CompletableFuture<Void> releaseAsync() {
            if (!released.compareAndSet(false, true)) {
                return CompletableFuture.completedFuture(null);
            }
            List<CompletableFuture<Void>> each = new ArrayList<>(leases.size());
            for (Lease lease : leases) {
                each.add(lease.releaseAsync());
            }
            return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                    .handle((done, error) -> {
                        if (error == null) {
                            return null;
                        }
                        Throwable first = null;
                        for (CompletableFuture<Void> f : each) {
                            Throwable cause = f.handle((v, e) -> e).join();
                            if (cause instanceof CompletionException c && c.getCause() != null) {
                                cause = c.getCause();
                            }
                            if (cause != null
                                    && (first == null
                                            || (cause instanceof LockLostException
                                                    && !(first instanceof LockLostException)))) {
                                first = cause;
                            }
                        }
                        throw new CompletionException(first);
                    });
        }

        @Override
        public void close() {
            release();
        }

        @Override
        public String toString() {
            return "MultiLease" + tokens;
        }
    }
}
