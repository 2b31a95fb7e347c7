package io.holdfast.recipes;

import io.holdfast.DistributedLatch;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.Names;
import io.holdfast.VersionedRegister;
import io.holdfast.internal.RecordNumbers;
import io.holdfast.recipes.CompareAndSetLoop.Decision;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * {@link DistributedLatch} over any {@link LockClient} with registers: the register of the name
 * holds {@code "latch:<generation>:<count>"} (absent: generation 0, count 0), changed only by
 * compare-and-set ({@link CompareAndSetLoop}); waits watch it ({@link RegisterWait}).
 */
final class RegisterLatch implements DistributedLatch {
    private static final String PREFIX = "latch:";

    private final Recipes recipes;
    private final LockClient client;
    private final String name;

    RegisterLatch(Recipes recipes, String name) {
        this.recipes = recipes;
        this.client = recipes.client();
        this.name = Names.check(name);
    }

    /** What the register holds: the generation armed last, and its count. */
    record State(long generation, long count) {
        byte[] encode() {
            return (PREFIX + generation + ":" + count).getBytes(StandardCharsets.UTF_8);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean trySetCount(long count) {
        if (count < 0) {
            throw new InvalidArgumentException("the count must be zero or positive, not " + count);
        }
        return CompareAndSetLoop.apply(register(), read -> {
            State now = decode(name, RegisterWait.valueOf(read));
            if (now.count() > 0) {
                return Decision.keep(false);
            }
            return count == 0
                    ? Decision.keep(true)
                    : Decision.write(new State(now.generation() + 1, count).encode(), true);
        });
    }

    @Override
    public void countDown() {
        CompareAndSetLoop.apply(register(), read -> {
            State now = decode(name, RegisterWait.valueOf(read));
            return now.count() == 0
                    ? Decision.keep(null)
                    : Decision.write(new State(now.generation(), now.count() - 1).encode(), null);
        });
    }

    @Override
    public long count() {
        return decode(name, RegisterWait.valueOf(register().get())).count();
    }

    @Override
    public boolean await(Duration timeout) throws InterruptedException {
        RegisterWait.checkTimeout(timeout);
        return RegisterWait.join(awaitAsync(timeout), timeout, "the latch " + name);
    }

    @Override
    public CompletableFuture<Boolean> awaitAsync(Duration timeout) {
        RegisterWait.checkTimeout(timeout);
        VersionedRegister register = register();
        long start = recipes.nanos();
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        register.getAsync().whenComplete((read, failure) -> {
            if (failure != null) {
                result.completeExceptionally(RegisterWait.unwrap(failure));
                return;
            }
            try {
                State found = decode(name, RegisterWait.valueOf(read));
                Duration left = timeout.minusNanos(recipes.nanos() - start);
                if (found.count() == 0 || left.isNegative() || left.isZero()) {
                    result.complete(found.count() == 0);
                    return;
                }
                // Released once the generation found has reached zero: at zero, or armed again
                // since (trySetCount arms only at zero), whichever version the watch shows. An
                // older generation's zero (a lagging replica's answer) releases nobody.
                CompletableFuture<Boolean> waiting = RegisterWait.until(
                        recipes,
                        name,
                        value -> {
                            State now = decode(name, value);
                            return now.generation() > found.generation()
                                    || (now.generation() == found.generation() && now.count() == 0);
                        },
                        left);
                result.whenComplete((answer, ended) -> waiting.cancel(false));
                waiting.whenComplete((answer, ended) -> {
                    if (ended != null) {
                        result.completeExceptionally(RegisterWait.unwrap(ended));
                    } else {
                        result.complete(answer);
                    }
                });
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    private VersionedRegister register() {
        CompareAndSetLoop.requireRegisters(client, "latches");
        return client.register(name);
    }

    /** Reads the register's value; absent is an unset latch. */
    static State decode(String name, byte[] value) {
        if (value == null) {
            return new State(0, 0);
        }
        String text = new String(value, StandardCharsets.UTF_8);
        String[] parts =
                text.startsWith(PREFIX) ? text.substring(PREFIX.length()).split(":", -1) : new String[0];
        if (parts.length == 2) {
            long generation = RecordNumbers.parse(parts[0]);
            long count = RecordNumbers.parse(parts[1]);
            if (generation >= 0 && count >= 0) {
                return new State(generation, count);
            }
        }
        throw new InvalidArgumentException(
                "the register '" + name + "' holds something other than a latch; give the latch a name of its own");
    }
}
