package io.holdfast.client.internal;

import io.holdfast.LockInfo;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Passes every call to another service; tests override the calls they meddle with. */
abstract class ForwardingLockService implements LockService {
    protected final LockService delegate;

    ForwardingLockService(LockService delegate) {
        this.delegate = delegate;
    }

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        return delegate.submit(command);
    }

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        return delegate.keepAlive(sessionId);
    }

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId, Duration timeout) {
        return delegate.keepAlive(sessionId, timeout);
    }

    @Override
    public CompletableFuture<List<Reply>> keepAliveMany(List<String> sessionIds) {
        return delegate.keepAliveMany(sessionIds);
    }

    @Override
    public void subscribe(String sessionId, Listener listener) {
        delegate.subscribe(sessionId, listener);
    }

    @Override
    public void unsubscribe(String sessionId) {
        delegate.unsubscribe(sessionId);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return delegate.describe(name);
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return delegate.list(prefix, limit);
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return delegate.isCurrentHolder(name, token);
    }

    @Override
    public CompletableFuture<List<Boolean>> isCurrentHolderMany(List<io.holdfast.model.FenceCheck> checks) {
        return delegate.isCurrentHolderMany(checks);
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return delegate.readRegister(key);
    }

    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(String identity, String prefix, String after, int limit) {
        return delegate.keys(identity, prefix, after, limit);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
