package io.holdfast.node;

import io.holdfast.LockInfo;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** The transport to a {@link LocalNode} in the same JVM: direct calls, completed at once. */
public final class LocalTransport implements LockService {
    private final LocalNode node;

    public LocalTransport(LocalNode node) {
        this.node = node;
    }

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        return CompletableFuture.completedFuture(node.apply(command));
    }

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        return CompletableFuture.completedFuture(node.keepAlive(sessionId));
    }

    @Override
    public void subscribe(String sessionId, LockService.Listener listener) {
        node.subscribe(sessionId, listener);
    }

    @Override
    public void unsubscribe(String sessionId) {
        node.unsubscribe(sessionId);
    }

    @Override
    public CompletableFuture<io.holdfast.model.ChangePage> changes(
            String identity, io.holdfast.WatchTarget target, io.holdfast.model.ChangePosition from, long waitMillis) {
        return node.changes(target, from, waitMillis);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return CompletableFuture.completedFuture(node.describe(name));
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return CompletableFuture.completedFuture(node.list(prefix, limit));
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return CompletableFuture.completedFuture(node.isCurrentHolder(name, token));
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return CompletableFuture.completedFuture(node.readRegister(key));
    }

    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(String identity, String prefix, String after, int limit) {
        return CompletableFuture.completedFuture(node.keys(prefix, after, limit));
    }

    @Override
    public void close() {}
}
