package io.holdfast.client.internal;

import io.holdfast.LockInfo;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** A follower: refuses everything with {@link NotLeaderException}, naming {@link #leader}; counts calls. */
final class NotLeaderService implements LockService {
    volatile String leader;
    final AtomicInteger calls = new AtomicInteger();

    NotLeaderService(String leader) {
        this.leader = leader;
    }

    private <T> CompletableFuture<T> refuse() {
        calls.incrementAndGet();
        return CompletableFuture.failedFuture(new NotLeaderException("a follower", leader));
    }

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        return refuse();
    }

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        return refuse();
    }

    @Override
    public void subscribe(String sessionId, Listener listener) {
        calls.incrementAndGet();
        throw new NotLeaderException("a follower", leader);
    }

    @Override
    public void unsubscribe(String sessionId) {}

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return refuse();
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return refuse();
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return refuse();
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return refuse();
    }

    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(String identity, String prefix, String after, int limit) {
        return refuse();
    }

    @Override
    public void close() {}
}
