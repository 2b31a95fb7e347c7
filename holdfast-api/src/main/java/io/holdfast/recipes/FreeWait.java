package io.holdfast.recipes;

import io.holdfast.HoldfastException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.Names;
import io.holdfast.UnavailableException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link LockClient#awaitFree}: follows the holders of one lock through a watch until there are
 * none, or the timeout passes on the client's scheduler. The answer needs the lock's state at least
 * once, even for a zero timeout: at the timeout it is whether the last state seen had no holder.
 */
final class FreeWait implements WatchListener {
    /** The longest it waits past the timeout for the lock's state, when the service is slow to answer. */
    private static final Duration STATE_GRACE = Duration.ofSeconds(30);

    private final CompletableFuture<Boolean> answer = new CompletableFuture<>();
    private final Set<Long> holders = new HashSet<>();
    private boolean stated;
    private boolean expired;

    private FreeWait() {}

    static boolean await(Recipes recipes, String name, Duration timeout) throws InterruptedException {
        Names.check(name);
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidArgumentException("the timeout must be zero or positive");
        }
        FreeWait wait = new FreeWait();
        try (Watch watch = recipes.client().watch(WatchTarget.lock(name), wait)) {
            ScheduledFuture<?> timer = recipes.schedule(wait::expire, timeout);
            try {
                return wait.answer.get(timeout.plus(STATE_GRACE).toNanos(), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                throw RegisterWait.unwrap(e.getCause()); // the watch could not run (refused, or the client closed)
            } catch (TimeoutException e) {
                throw new UnavailableException("could not read the state of " + name + " within "
                        + timeout.plus(STATE_GRACE).toSeconds() + " s");
            } finally {
                if (timer != null) {
                    timer.cancel(false);
                }
            }
        }
    }

    /** The timeout has passed: the answer is the last state's, or the first state's still to come. */
    private synchronized void expire() {
        expired = true;
        if (stated) {
            answer.complete(holders.isEmpty());
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
        stated = true;
        if (holders.isEmpty() || expired) {
            answer.complete(holders.isEmpty());
        }
    }

    @Override
    public void onEnd(HoldfastException cause) {
        if (cause != null) {
            answer.completeExceptionally(cause);
        }
    }
}
