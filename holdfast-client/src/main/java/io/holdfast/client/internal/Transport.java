package io.holdfast.client.internal;

import io.holdfast.LockInfo;
import io.holdfast.core.Command;
import io.holdfast.core.Event;
import io.holdfast.core.LockTable.RegisterValue;
import io.holdfast.core.Reply;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * How a {@link ClientRuntime} reaches a lock table: in the same JVM ({@code mem:}) or over the
 * network (the Holdfast server). Commands are sent with time 0; the receiving end stamps its
 * cluster time. A failure to reach the table completes the future exceptionally with {@link
 * io.holdfast.UnavailableException}; every other outcome is a {@link Reply}.
 */
public interface Transport extends AutoCloseable {
    /** Applies a command through the table's log. */
    CompletableFuture<Reply> submit(Command command);

    /** A heartbeat for the session: {@link Reply.Ok}, or a failure for an unknown session. */
    CompletableFuture<Reply> keepAlive(String sessionId);

    /** Delivers the session's events, in the order the table emitted them, to the listener. */
    void subscribe(String sessionId, Consumer<Event> listener);

    /** Stops delivering the session's events. */
    void unsubscribe(String sessionId);

    CompletableFuture<Optional<LockInfo>> describe(String name);

    CompletableFuture<List<LockInfo>> list(String prefix, int limit);

    CompletableFuture<Boolean> isCurrentHolder(String name, long token);

    CompletableFuture<Optional<RegisterValue>> readRegister(String key);

    @Override
    void close();
}
