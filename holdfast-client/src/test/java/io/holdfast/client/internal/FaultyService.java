package io.holdfast.client.internal;

import io.holdfast.UnavailableException;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A service in front of a real one that the test can make misbehave, one fault at a time or
 * several: fail a command before it reaches the service, lose the answer of one that was applied,
 * hold back an answer until the test lets it go, drop the session's events. {@link #heal} ends
 * every fault but a held answer, which {@link #releaseHeld} lets go.
 */
final class FaultyService extends ForwardingLockService {
    private static final Predicate<Command> NONE = c -> false;

    private volatile Predicate<Command> fail = NONE;
    private volatile Predicate<Command> loseAnswer = NONE;
    private volatile Predicate<Command> hold = NONE;
    private volatile boolean holdReads;
    private volatile boolean dropEvents;
    private final java.util.concurrent.atomic.AtomicInteger dropped = new java.util.concurrent.atomic.AtomicInteger();
    private final CountDownLatch held = new CountDownLatch(1);
    private final CompletableFuture<Void> release = new CompletableFuture<>();

    FaultyService(LockService delegate) {
        super(delegate);
    }

    /** These commands fail as unreachable, without reaching the service. */
    void failCommands(Predicate<Command> which) {
        fail = which;
    }

    /** These commands are applied, but their answer is lost. */
    void loseAnswers(Predicate<Command> which) {
        loseAnswer = which;
    }

    /** These commands are applied; their answer waits for {@link #releaseHeld}. */
    void holdCommands(Predicate<Command> which) {
        hold = which;
    }

    /** Register reads are answered only after {@link #releaseHeld}. */
    void holdReads() {
        holdReads = true;
    }

    /** The session's events no longer reach the client. */
    void dropEvents() {
        dropEvents = true;
    }

    /**
     * How many events were dropped so far. The node delivers events on a thread of its own, so a
     * test that heals must first see its events dropped, or they may still reach the client.
     */
    int droppedEvents() {
        return dropped.get();
    }

    /** Every fault ends for the calls that follow (answers already held stay held). */
    void heal() {
        fail = NONE;
        loseAnswer = NONE;
        hold = NONE;
        holdReads = false;
        dropEvents = false;
    }

    /** Whether an answer was held back within {@code seconds}. */
    boolean awaitHeld(long seconds) throws InterruptedException {
        return held.await(seconds, TimeUnit.SECONDS);
    }

    /** Lets every held answer go, from a thread of neither side. */
    void releaseHeld() {
        release.complete(null);
    }

    private <T> CompletableFuture<T> held(CompletableFuture<T> answer) {
        held.countDown();
        return answer.thenCombineAsync(
                release, (value, ignored) -> value, CompletableFuture.delayedExecutor(0, TimeUnit.MILLISECONDS));
    }

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        if (fail.test(command)) {
            return CompletableFuture.failedFuture(new UnavailableException("cut off (test)"));
        }
        CompletableFuture<Reply> answer = super.submit(command);
        if (loseAnswer.test(command)) {
            return answer.thenCompose(r -> CompletableFuture.failedFuture(new UnavailableException("lost (test)")));
        }
        return hold.test(command) ? held(answer) : answer;
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        CompletableFuture<Optional<RegisterValue>> answer = super.readRegister(key);
        return holdReads ? held(answer) : answer;
    }

    @Override
    public void subscribe(String sessionId, Listener listener) {
        super.subscribe(sessionId, new Listener() {
            @Override
            public void onEvent(Event event) {
                if (!dropEvents) {
                    listener.onEvent(event);
                } else {
                    dropped.incrementAndGet();
                }
            }

            @Override
            public void onGap() {
                listener.onGap();
            }

            @Override
            public void onEnd(Throwable cause) {
                listener.onEnd(cause);
            }
        });
    }
}
