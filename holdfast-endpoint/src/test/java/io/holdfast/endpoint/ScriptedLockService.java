package io.holdfast.endpoint;

import io.holdfast.LockInfo;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A lock service whose answers a test scripts, and which records subscriptions. */
final class ScriptedLockService implements LockService {
    volatile Function<Command, CompletableFuture<Reply>> submit =
            c -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
    volatile RuntimeException subscribeFailure;
    /** The sessions whose subscription fails with {@link #subscribeFailure}: all by default. */
    volatile java.util.function.Predicate<String> subscribeFails = id -> true;

    final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    final List<String> log = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        return submit.apply(command);
    }

    volatile Function<String, CompletableFuture<Reply>> keepAlive =
            id -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
    /** Whether the caller may use a session (its identity is not known here). */
    volatile java.util.function.Predicate<String> usable = id -> true;

    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        return keepAlive.apply(sessionId);
    }

    /** Whether the caller may read a name (its identity is not known here). */
    volatile java.util.function.Predicate<String> readable = name -> true;

    @Override
    public boolean mayRead(String identity, String name) {
        return readable.test(name);
    }

    @Override
    public boolean mayUseSession(String identity, String sessionId) {
        return usable.test(sessionId);
    }

    @Override
    public void subscribe(String sessionId, Listener listener) {
        if (subscribeFailure != null && subscribeFails.test(sessionId)) {
            throw subscribeFailure;
        }
        log.add("subscribe " + sessionId);
        listeners.put(sessionId, listener);
    }

    @Override
    public void unsubscribe(String sessionId) {
        log.add("unsubscribe " + sessionId);
        listeners.remove(sessionId);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return CompletableFuture.completedFuture(
                name.equals("known")
                        ? Optional.of(new LockInfo(name, false, 1, List.of(), List.of()))
                        : Optional.empty());
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return CompletableFuture.completedFuture(
                List.of(new LockInfo(prefix + "a", true, limit, List.of(), List.of())));
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return CompletableFuture.completedFuture(token == 42);
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return CompletableFuture.completedFuture(
                Optional.of(new RegisterValue(3, key.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    }

    /** A page of one key, {@code prefix + "k"}, whose value names the arguments. */
    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(String identity, String prefix, String after, int limit) {
        String args = "after=" + after + " limit=" + limit;
        return CompletableFuture.completedFuture(new io.holdfast.model.KeyPage(
                List.of(new io.holdfast.model.KeyPage.Entry(
                        prefix + "k", 2, args.getBytes(java.nio.charset.StandardCharsets.UTF_8), "s-1", 0)),
                true,
                new io.holdfast.model.ChangePosition(7, 0)));
    }

    @Override
    public void close() {}
}
