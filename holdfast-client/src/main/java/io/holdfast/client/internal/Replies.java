package io.holdfast.client.internal;

import io.holdfast.ConflictException;
import io.holdfast.DeadlockException;
import io.holdfast.UnavailableException;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** How the client turns replies and failed futures into what callers see: typed exceptions. */
final class Replies {
    private Replies() {}

    /** The typed exception for a failed reply. */
    static RuntimeException failure(Reply reply) {
        if (reply instanceof Reply.Failed f) {
            return switch (f.code()) {
                case DEADLOCK -> new DeadlockException(f.message(), f.cycle());
                case CONFLICT -> new ConflictException(f.message(), f.currentVersion());
                default -> f.code().toException(f.message());
            };
        }
        return new UnavailableException("unexpected reply " + reply);
    }

    /** The cause under the wrappers a future adds. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Waits for a future without being interruptible; rethrows its failure as it was. */
    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException | CancellationException e) {
            throw rethrow(unwrap(e));
        }
    }

    /** A failure to throw as it is: unchecked ones unchanged, checked ones as unavailability. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new UnavailableException("request failed: " + t, t);
    }

    /** "5s", "1500ms": a duration for messages. */
    static String format(Duration d) {
        return io.holdfast.internal.DurationText.format(d);
    }

    /** Whole milliseconds, rounded up: a wait is never shortened. */
    static long ceilMillis(Duration d) {
        long millis = d.toMillis();
        return d.minusMillis(millis).isZero() ? millis : millis + 1;
    }
}
