package io.holdfast.client.internal;

import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.LockInfo;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.internal.ChangeFeed;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.LockService;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The {@link ChangeFeed} of a lock service that records its changes ({@link LockService#changes}):
 * long polls from the last position, at whichever member the transport reaches. On a gap (the
 * start, or changes the service no longer has) it reads the state and hands it on as a {@code
 * STATE} at the position the service gave: changes made while the state was read come after it
 * again, so a listener may see a change the state already showed, never miss one. The state of a
 * watch of keys is every key under its prefix, listed page by page after that position.
 */
final class ServiceFeed implements ChangeFeed {
    /** Sends a read to the service, with the client's retries. */
    interface Reads {
        <T> CompletableFuture<T> query(Function<LockService, CompletableFuture<T>> read);
    }

    private final Reads reads;
    private final Duration maxWait;
    private final ClientTracing tracing;
    /** The trace the watch was started in: each poll's span is its child (it runs on the watch's thread). */
    private final Context trace = Context.current();

    /**
     * @param reads sends reads to the service
     * @param maxWait the longest long poll: below the request timeout, so a quiet watch is no
     *     failed call
     * @param tracing where each poll's {@code holdfast.watch.poll} span goes
     */
    ServiceFeed(Reads reads, Duration maxWait, ClientTracing tracing) {
        this.reads = reads;
        this.maxWait = maxWait;
        this.tracing = tracing;
    }

    @Override
    public Page read(WatchTarget target, String after, Duration wait) throws InterruptedException {
        Span span;
        try (Scope ignored = trace.makeCurrent()) {
            span = tracing.start(SpanName.WATCH_POLL.text(), target.name());
        }
        try (Scope ignored = Spans.current(span)) {
            Page page = poll(target, after, wait);
            ClientTracing.end(span, null);
            return page;
        } catch (InterruptedException | RuntimeException e) {
            ClientTracing.end(span, e);
            throw e;
        }
    }

    private Page poll(WatchTarget target, String after, Duration wait) throws InterruptedException {
        ChangePosition from = after == null ? null : ChangePosition.parse(after);
        long waitMillis = Math.max(0, Math.min(wait.toMillis(), maxWait.toMillis()));
        ChangePage page = ask(t -> t.changes(null, target, from, waitMillis));
        if (!page.gap()) {
            return new Page(page.events(), page.next().toString());
        }
        String at = page.next().toString();
        WatchEvent state;
        if (target.kind() == WatchTarget.Kind.REGISTER) {
            var value = ask(t -> t.readRegister(target.name()));
            state = WatchEvent.registerState(
                    target.name(),
                    value.map(v -> v.version()).orElse(0L),
                    value.map(v -> v.value()).orElse(null));
        } else if (target.kind() == WatchTarget.Kind.KEYS) {
            state = WatchEvent.keyState(target.name(), keys(target.name()));
        } else if (target.kind() == WatchTarget.Kind.LOCK) {
            state = WatchEvent.lockState(
                    target.name(), ask(t -> t.describe(target.name())).stream().toList());
        } else {
            List<LockInfo> locks = new ArrayList<>();
            for (LockInfo info : ask(t -> t.list(target.name(), WatchTarget.MAX_PREFIX_LOCKS))) {
                if (target.coversLock(info.name())) {
                    locks.add(info);
                }
            }
            state = WatchEvent.lockState(target.name(), locks);
        }
        return new Page(List.of(state.at(at)), at);
    }

    /**
     * Every key under the prefix, page by page (at most {@link WatchTarget#MAX_PREFIX_LOCKS}): each
     * page read where it was read, all after the position the state is placed at.
     */
    private List<KeyEntry> keys(String prefix) throws InterruptedException {
        List<KeyEntry> keys = new ArrayList<>();
        String after = "";
        while (keys.size() < WatchTarget.MAX_PREFIX_LOCKS) {
            int limit = Math.min(Keys.MAX_PAGE, WatchTarget.MAX_PREFIX_LOCKS - keys.size());
            String from = after;
            KeyListing page = RuntimeKeys.listing(ask(t -> t.keys(null, prefix, from, limit)));
            keys.addAll(page.entries());
            after = page.next();
            if (after == null) {
                break;
            }
        }
        return keys;
    }

    /** Waits for a read, interruptibly: closing the watch interrupts its long poll. */
    private <T> T ask(Function<LockService, CompletableFuture<T>> read) throws InterruptedException {
        CompletableFuture<T> future = reads.query(read);
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(false);
            throw e;
        } catch (java.util.concurrent.ExecutionException e) {
            throw Replies.rethrow(Replies.unwrap(e));
        }
    }
}
