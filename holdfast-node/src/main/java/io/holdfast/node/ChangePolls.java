package io.holdfast.node;

import io.holdfast.WatchTarget;
import io.holdfast.core.ChangeLog;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The long poll of a watch over a {@link ChangeLog}, for every lock service that keeps one (the
 * server's members, {@code mem:}): the changes of a target from a position on if there are some
 * (or a gap), else those that come within the wait, else an empty page.
 *
 * <p>The log wakes a poll on the thread that appends (the apply thread); the page is read on
 * {@code executor}, so a reader's scan never runs there.
 */
public final class ChangePolls {
    private ChangePolls() {}

    public static CompletableFuture<ChangePage> poll(
            ChangeLog log, WatchTarget target, ChangePosition from, long waitMillis, Executor executor) {
        ChangePage now = log.read(target, from);
        if (now.gap() || !now.events().isEmpty() || waitMillis <= 0) {
            return CompletableFuture.completedFuture(now);
        }
        return log.changed(target, from)
                .completeOnTimeout(null, waitMillis, TimeUnit.MILLISECONDS)
                .thenApplyAsync(ignored -> log.read(target, from), executor);
    }
}
