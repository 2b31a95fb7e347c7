package io.holdfast.recipes;

import io.holdfast.HoldfastException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.LockWatch;
import io.holdfast.Names;
import io.holdfast.UnavailableException;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@link LockClient#awaitFree}: follows the holders of one lock through a watch until there are none. */
final class FreeWait implements WatchListener {
    /** The longest it waits past the timeout for the lock's state, when the service is slow to answer. */
    private static final Duration STATE_GRACE = Duration.ofSeconds(30);

    private final CountDownLatch free = new CountDownLatch(1);
    private final CountDownLatch stated = new CountDownLatch(1);
    private final Set<Long> holders = new HashSet<>();
    private volatile HoldfastException ended;

    private FreeWait() {}

    static boolean await(LockClient client, String name, Duration timeout) throws InterruptedException {
        Names.check(name);
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidArgumentException("the timeout must be zero or positive");
        }
        long start = System.nanoTime();
        FreeWait wait = new FreeWait();
        try (LockWatch watch = client.watch(WatchTarget.lock(name), wait)) {
            // The answer needs the state at least once, even for a zero timeout.
            if (!wait.stated.await(timeout.plus(STATE_GRACE).toNanos(), TimeUnit.NANOSECONDS)) {
                throw new UnavailableException("could not read the state of " + name + " within "
                        + timeout.plus(STATE_GRACE).toSeconds() + " s");
            }
            long left = timeout.toNanos() - (System.nanoTime() - start);
            boolean isFree = wait.free.await(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (wait.ended != null) {
                throw wait.ended; // the watch could not run (refused, or the client closed)
            }
            return isFree;
        }
    }

    @Override
    public synchronized void onEvent(WatchEvent event) {
        switch (event.type()) {
            case STATE -> {
                holders.clear();
                event.locks().forEach(info -> info.holders().forEach(h -> holders.add(h.fencingToken())));
            }
            case ACQUIRED -> holders.add(event.fencingToken());
            case RELEASED -> holders.remove(event.fencingToken());
            default -> {
                return;
            }
        }
        if (holders.isEmpty()) {
            free.countDown();
        }
        stated.countDown();
    }

    @Override
    public void onEnd(HoldfastException cause) {
        if (cause != null) {
            ended = cause;
            free.countDown();
            stated.countDown();
        }
    }
}
