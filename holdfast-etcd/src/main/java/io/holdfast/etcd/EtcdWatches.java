package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.holdfast.Ticker;
import io.holdfast.WatchTarget;
import io.holdfast.store.WatchSubscriptions;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What wakes the watches of one etcd client between their reads ({@link EtcdBackend#awaitWatched}):
 * one etcd watch per watched target, on the client's watch stream, of the lock's keys, of every
 * key under the prefix, or of the register's key. Every event on it wakes the target's sleepers;
 * the bookkeeping of who sleeps on which etcd watch, and for how long it is kept, is {@link
 * WatchSubscriptions}'.
 *
 * <p><b>What it guarantees.</b> Every change a watch follows is an event here, since every change
 * is a write of a key: a grant, a release, a wait that begins or ends, a session or a lease that
 * expires (etcd deletes its keys), a register written. A sleep ends within a round trip of it. The
 * first sleep on a new etcd watch returns once etcd confirms it (a change before then was not
 * seen), which is why the etcd watch is kept from one sleep to the next rather than opened for
 * each: a watch opened from a past revision waits for etcd's catch-up loop (up to 100 ms) before it
 * reports what it missed.
 *
 * <p><b>What it does not.</b> The etcd watch is made on a target's first sleep and closed once no
 * sleep has used it for {@link WatchSubscriptions#IDLE}, since a watch does not tell its wakeup
 * that it ended.
 *
 * <p><b>A failure story.</b> The etcd member restarts while a watch sleeps. jetcd resumes the etcd
 * watch from the revision after its last event when the member is back, so the changes meanwhile
 * come as events; if it cannot (the revision was compacted), the watch ends in an error, which
 * wakes the sleepers, and the next sleep makes a new one (and returns at once).
 */
final class EtcdWatches implements WatchSubscriptions.Store<Watch.Watcher> {
    private static final Logger log = LoggerFactory.getLogger(EtcdWatches.class);

    private final Watch watch;
    private final Function<WatchTarget, ByteSequence> keyOf;
    private final WatchSubscriptions<Watch.Watcher> subscriptions;

    /** @param keyOf the key of a lock or register target, the key prefix of a prefix target */
    EtcdWatches(Watch watch, Function<WatchTarget, ByteSequence> keyOf, Ticker ticker) {
        this.watch = watch;
        this.keyOf = keyOf;
        this.subscriptions = new WatchSubscriptions<>("etcd", this, ticker);
    }

    /**
     * Sleeps up to {@code maxNanos}, or until what {@code target} watches may have changed.
     *
     * @throws InterruptedException if the thread is interrupted
     */
    void await(WatchTarget target, long maxNanos) throws InterruptedException {
        subscriptions.await(target, maxNanos);
    }

    @Override
    public Watch.Watcher open(WatchTarget target, WatchSubscriptions.Subscription s) {
        WatchOption option = WatchOption.builder()
                .isPrefix(target.kind() != WatchTarget.Kind.REGISTER)
                .withCreateNotify(true)
                .build();
        return watch.watch(
                keyOf.apply(target),
                option,
                Watch.listener(
                        response -> {
                            if (response.isCreatedNotify()) {
                                s.ready();
                            }
                            if (!response.getEvents().isEmpty()) {
                                s.changed();
                            }
                        },
                        s::ended,
                        () -> s.ended(new IllegalStateException("the etcd watch ended"))));
    }

    @Override
    public void close(Watch.Watcher watcher) {
        try {
            watcher.close();
        } catch (RuntimeException e) {
            log.debug("closing an etcd watcher failed", e);
        }
    }

    /** Closes every etcd watch (the client closes). */
    void close() {
        subscriptions.endAll().forEach(this::close);
    }

    /** How many etcd watches are open for watches (for tests). */
    int watching() {
        return subscriptions.size();
    }
}
