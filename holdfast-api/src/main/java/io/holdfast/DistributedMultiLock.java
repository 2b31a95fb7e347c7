package io.holdfast;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Several named locks taken all or none, in one mode: a transfer that must hold both accounts, a
 * job that needs every shard it touches. Obtained from {@link LockClient#multiLock}.
 *
 * <p><b>What it guarantees.</b> An acquire either returns a {@link MultiLease} holding every name,
 * or fails holding none of them: a timeout, an interrupt, a cancelled future or an error gives back
 * whatever part it had taken before it reports. Two multi-locks never deadlock each other, whatever
 * order their names were given in. On the Holdfast server the names are granted in one step: the
 * multi-lock waits as one request with a place in every name's first-come-first-served queue,
 * holding none of them, and is granted when it heads them all (so neither it nor the requests
 * around it can be starved). On store providers the names are taken one by one in one global order
 * (their sorted order), each within what is left of the one wait time.
 *
 * <p><b>What it does not guarantee.</b> On store providers (and on a server cluster that does not
 * speak protocol version 2 yet), that the names are granted in one instant: while a multi-lock
 * waits for its second name it holds its first, and a single-name user of that first name waits
 * behind it; a caller who takes single locks in another order can deadlock with it. Anywhere, a
 * single-lock caller that holds one of the names and waits for another can deadlock with a
 * multi-lock; a provider with {@link Capability#DEADLOCK_DETECTION} reports it with {@link
 * DeadlockException}, and the multi-lock gives back what it held.
 *
 * <p><b>A failure story.</b> A transfer takes {@code accounts/7} and {@code accounts/3} while a
 * report holds {@code accounts/7}. The multi-lock takes {@code accounts/3} (first in sorted order),
 * waits for {@code accounts/7} (on the server: it waits for both, holding neither), and its wait time
 * runs out: it releases {@code accounts/3} and throws {@link LockTimeoutException} naming {@code
 * accounts/7}. Nothing is left held.
 */
public interface DistributedMultiLock {
    /** The most names one multi-lock may take. */
    int MAX_NAMES = 64;

    /** The names, sorted and distinct: the order in which they are taken. */
    List<String> names();

    /** {@link LockMode#EXCLUSIVE} or {@link LockMode#SHARED}. */
    LockMode mode();

    /** Waits up to {@code wait} for all the names. */
    default MultiLease acquire(Duration wait) throws InterruptedException {
        return acquire(AcquireOptions.waitUpTo(wait));
    }

    /**
     * Waits up to the options' wait time, in all, for every name; each grant gets the options' lease
     * timeout.
     *
     * @throws LockTimeoutException if the wait ran out (nothing is held)
     * @throws InterruptedException if interrupted while waiting (nothing is held)
     */
    MultiLease acquire(AcquireOptions options) throws InterruptedException;

    /** Takes every name if each is free now; empty (holding nothing) if one is not. */
    Optional<MultiLease> tryAcquire();

    /**
     * Asynchronous {@link #acquire(AcquireOptions)}; cancelling the future ends the wait and gives
     * back what was taken.
     */
    CompletableFuture<MultiLease> acquireAsync(AcquireOptions options);
}
