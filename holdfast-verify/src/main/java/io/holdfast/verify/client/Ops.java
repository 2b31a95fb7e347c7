package io.holdfast.verify.client;

import io.holdfast.AcquireOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.MultiLease;
import io.holdfast.Versioned;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The recorded operations of one process: each call is an invoke, the call, and exactly one
 * completion with its {@link Result} (a failure mapped by {@link Outcomes}). Calls go through the asynchronous API and are waited for
 * at most their wait plus {@code bound}; a call that has not answered by then is cancelled and
 * recorded {@code Unknown(NO_ANSWER)} (a grant racing the cancellation is given back by the client).
 */
final class Ops {
    /**
     * What a granted acquire left to release.
     *
     * @param seq the acquire's number within its process
     * @param target what it holds
     * @param token the lease's fencing token
     */
    record Held(long seq, Call.Target target, long token, Lease lease) {
        String key() {
            return target.key();
        }
    }

    /** The result of an acquire and, when granted, the hold. */
    record Acquired(Result result, Held held) {}

    /** The result of a call whose wait was interrupted. */
    static final Result.Unknown INTERRUPTED = new Result.Unknown("INTERRUPTED");

    /** How long an acquire may go unanswered before it counts as queued. */
    static final long QUEUED_AFTER_MILLIS = 200;

    private final Recorder rec;
    private final Duration bound;

    /**
     * @param rec where events go
     * @param bound how long past its own wait a call may take (the client's request timeout plus a
     *     margin)
     */
    Ops(Recorder rec, Duration bound) {
        this.rec = rec;
        this.bound = bound;
    }

    Recorder recorder() {
        return rec;
    }

    /**
     * Acquires and records. When granted, an {@code onLost} listener writes a NOTICE LOST with the
     * token, in the same phase.
     *
     * @param leaseTimeout null for none
     */
    Acquired acquire(
            String phase,
            LockClient client,
            String key,
            Op.Kind kind,
            int limit,
            boolean tryOnly,
            long waitMillis,
            Duration leaseTimeout) {
        return acquire(phase, client, key, kind, limit, tryOnly, waitMillis, leaseTimeout, null);
    }

    /**
     * As above; {@code whenQueued}, if not null, runs when the acquire has not been answered
     * within {@link #QUEUED_AFTER_MILLIS} (it is then most likely waiting in the lock's queue).
     */
    Acquired acquire(
            String phase,
            LockClient client,
            String key,
            Op.Kind kind,
            int limit,
            boolean tryOnly,
            long waitMillis,
            Duration leaseTimeout,
            Runnable whenQueued) {
        int permits = 1;
        Call.Target target = new Call.Target(key, kind, permits, kind == Op.Kind.SEMAPHORE ? limit : 0);
        Op invoke = rec.record(phase, new Call.Acquire(target, tryOnly, tryOnly ? 0 : waitMillis));
        CompletableFuture<Lease> future = null;
        Lease lease;
        try {
            AcquireOptions options =
                    tryOnly ? AcquireOptions.tryOnce() : AcquireOptions.waitUpTo(Duration.ofMillis(waitMillis));
            if (leaseTimeout != null) {
                options = options.withLeaseTimeout(leaseTimeout);
            }
            future = switch (kind) {
                case LOCK -> client.lock(key).acquireAsync(options);
                case READ -> client.readWriteLock(key).readLock().acquireAsync(options);
                case WRITE -> client.readWriteLock(key).writeLock().acquireAsync(options);
                case SEMAPHORE -> client.semaphore(key, limit).acquireAsync(permits, options);
                case REGISTER, KEYS -> throw new IllegalArgumentException("a " + kind + " is not acquired");
            };
            if (whenQueued != null) {
                try {
                    future.get(QUEUED_AFTER_MILLIS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException queued) {
                    whenQueued.run();
                } catch (ExecutionException answered) {
                    // answered at once: await below reports it
                }
            }
            lease = await(future, tryOnly ? 0 : waitMillis);
        } catch (InterruptedException e) {
            cancel(future);
            Thread.currentThread().interrupt();
            return new Acquired(rec.complete(invoke, INTERRUPTED), null);
        } catch (Exception e) {
            cancel(future);
            return new Acquired(rec.complete(invoke, Outcomes.ofAcquire(e)), null);
        }
        if (lease == null) { // a busy try
            return new Acquired(rec.complete(invoke, new Result.Refused(Result.Refused.TIMEOUT)), null);
        }
        return granted(phase, invoke, lease, target);
    }

    /**
     * A multi-lock of exclusive locks, recorded as one acquire of {@link Op.Kind#LOCK} per key
     * (all invoked before the call, all completed after it, with the same outcome): the service
     * grants the keys together, so each key's grant lies within its operation's interval, as for
     * an acquire of that key alone.
     *
     * @param keys sorted, distinct
     * @return one acquire per key, in the order of the keys
     */
    List<Acquired> acquireAll(
            String phase, LockClient client, List<String> keys, long waitMillis, Duration leaseTimeout) {
        List<Op> invokes = new ArrayList<>(keys.size());
        for (String key : keys) {
            invokes.add(rec.record(phase, new Call.Acquire(Call.Target.lock(key), false, waitMillis)));
        }
        CompletableFuture<MultiLease> future = null;
        MultiLease lease;
        Result failed;
        try {
            AcquireOptions options = AcquireOptions.waitUpTo(Duration.ofMillis(waitMillis));
            if (leaseTimeout != null) {
                options = options.withLeaseTimeout(leaseTimeout);
            }
            future = client.multiLock(keys).acquireAsync(options);
            lease = await(future, waitMillis);
            List<Acquired> out = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                out.add(granted(phase, invokes.get(i), lease.leases().get(i), Call.Target.lock(keys.get(i))));
            }
            return out;
        } catch (InterruptedException e) {
            cancel(future);
            Thread.currentThread().interrupt();
            failed = INTERRUPTED;
        } catch (Exception e) {
            cancel(future);
            failed = Outcomes.ofAcquire(e);
        }
        List<Acquired> out = new ArrayList<>(keys.size());
        for (Op invoke : invokes) {
            out.add(new Acquired(rec.complete(invoke, failed), null));
        }
        return out;
    }

    /** Records a grant, its loss listener and its first validity probe. */
    private Acquired granted(String phase, Op invoke, Lease lease, Call.Target target) {
        Result.Granted ok = rec.complete(invoke, new Result.Granted(lease.fencingToken()));
        try {
            lease.onLost(lost -> rec.record(
                    phase, new Call.Lost(target, ok.token(), Outcomes.errorName(lost) + ": " + lost.getMessage())));
        } catch (RuntimeException e) {
            // the lease still has to be given back; its loss then shows as a release Refused(LOST)
        }
        Held held = new Held(invoke.seq(), target, ok.token(), lease);
        if (lease.isValid()) {
            probed(phase, held, Recorder.now()); // valid at some moment before this time
        }
        return new Acquired(ok, held);
    }

    /**
     * Asks the hold's lease {@code isValid()} and, if true, records a VALID notice timed before the
     * question: the lease was valid at some moment after that time.
     */
    void probe(String phase, Held held) {
        long asked = Recorder.now();
        if (held.lease().isValid()) {
            probed(phase, held, asked);
        }
    }

    /** Records that a hold's lease answered {@code isValid()} true at {@code time}. */
    private void probed(String phase, Held held, long time) {
        rec.record(phase, time, new Call.Valid(held.target(), held.token()));
    }

    /**
     * Releases a hold and records it with the hold's token; first, if the lease still answers
     * {@code isValid()} true, a VALID notice timed before that question.
     */
    Result release(String phase, Held held) {
        probe(phase, held);
        Op invoke = rec.record(phase, new Call.Release(held.target(), held.token()));
        try {
            await(held.lease().releaseAsync(), 0);
            return rec.complete(invoke, new Result.Released());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return rec.complete(invoke, INTERRUPTED);
        } catch (Exception e) {
            return rec.complete(invoke, Outcomes.ofRelease(e));
        }
    }

    /** Reads a register: its {@link Result.RegisterState} (0/0 when absent), or why not. */
    Result regGet(String phase, LockClient client, String key) {
        Op invoke = rec.record(phase, new Call.RegisterRead(key));
        try {
            Optional<Versioned> v = await(client.register(key).getAsync(), 0);
            long version = v.map(Versioned::version).orElse(0L);
            long value = v.map(x -> decode(x.value())).orElse(0L);
            return rec.complete(invoke, new Result.RegisterState(version, value));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return rec.complete(invoke, INTERRUPTED);
        } catch (Exception e) {
            return rec.complete(invoke, Outcomes.ofRead(e));
        }
    }

    /** Compare-and-set of a register: {@link Result.Written} with the new version, or why not. */
    Result regCas(String phase, LockClient client, String key, long expectedVersion, long value) {
        Op invoke = rec.record(phase, new Call.RegisterWrite(key, expectedVersion, value));
        try {
            Versioned written = await(client.register(key).compareAndSetAsync(expectedVersion, encode(value)), 0);
            return rec.complete(invoke, new Result.Written(written.version()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return rec.complete(invoke, INTERRUPTED);
        } catch (Exception e) {
            return rec.complete(invoke, Outcomes.ofCas(e));
        }
    }

    /** Register values are decimal numbers in UTF-8. */
    static byte[] encode(long value) {
        return Long.toString(value).getBytes(StandardCharsets.UTF_8);
    }

    /** The number a register holds; -1 if it holds something else. */
    static long decode(byte[] bytes) {
        try {
            return Long.parseLong(new String(bytes, StandardCharsets.UTF_8));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private <T> T await(CompletableFuture<T> future, long waitMillis)
            throws InterruptedException, ExecutionException, TimeoutException {
        try {
            return future.get(waitMillis + bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            if (!future.cancel(true)) {
                // Completed between the timeout and the cancel: what it granted is ours to give back,
                // or it stays held by this live session (recorded as unknown, never used).
                future.thenAccept(Ops::giveBack);
            }
            throw e;
        }
    }

    /** Releases, quietly, the lease or leases of an acquire this client no longer waits for. */
    private static void giveBack(Object granted) {
        List<?> leases = granted instanceof List<?> list ? list : java.util.Collections.singletonList(granted);
        for (Object lease : leases) {
            if (lease instanceof Lease l) {
                l.releaseAsync().exceptionally(error -> null);
            }
        }
    }

    private static void cancel(CompletableFuture<?> future) {
        if (future != null && !future.isDone()) {
            future.cancel(true);
        }
    }
}
