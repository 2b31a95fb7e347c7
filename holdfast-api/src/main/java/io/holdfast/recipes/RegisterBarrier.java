package io.holdfast.recipes;

import io.holdfast.DistributedBarrier;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.Names;
import io.holdfast.VersionedRegister;
import io.holdfast.internal.RecordNumbers;
import io.holdfast.recipes.CompareAndSetLoop.Decision;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * {@link DistributedBarrier} over any {@link LockClient} with registers: the register of the name
 * holds {@code "barrier:<generation>:<arrived>:<parties>"} (absent: generation 0, nobody arrived).
 * A party arrives by a compare-and-set that adds one, or, as the last, moves to the next generation
 * with nobody arrived; it waits, through a watch ({@link RegisterWait}), for the generation to move
 * past its own; giving up, it takes its one back by a compare-and-set in the same generation, or
 * finds that the generation moved on and passes after all.
 */
final class RegisterBarrier implements DistributedBarrier {
    private static final String PREFIX = "barrier:";

    private final Recipes recipes;
    private final LockClient client;
    private final String name;
    private final int parties;

    RegisterBarrier(Recipes recipes, String name, int parties) {
        this.recipes = recipes;
        this.client = recipes.client();
        this.name = Names.check(name);
        if (parties < 1 || parties > MAX_PARTIES) {
            throw new InvalidArgumentException("a barrier has 1 to " + MAX_PARTIES + " parties, not " + parties);
        }
        this.parties = parties;
    }

    /** What the register holds. */
    record State(long generation, int arrived, int parties) {
        byte[] encode() {
            return (PREFIX + generation + ":" + arrived + ":" + parties).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Where one party arrived: its generation and index, and whether its arrival completed it. */
    private record Arrival(long generation, int index, boolean completed) {}

    @Override
    public String name() {
        return name;
    }

    @Override
    public int parties() {
        return parties;
    }

    @Override
    public int arrived() {
        return decode(RegisterWait.valueOf(register().get())).arrived();
    }

    @Override
    public int await(Duration timeout) throws InterruptedException {
        RegisterWait.checkTimeout(timeout);
        VersionedRegister register = register();
        Arrival arrival = arrive(register);
        return arrival.completed() ? 0 : waitFor(register, arrival, timeout);
    }

    /** Counts this party in, or completes the generation as its last party. */
    private Arrival arrive(VersionedRegister register) {
        return CompareAndSetLoop.apply(register, read -> {
            State now = decode(RegisterWait.valueOf(read));
            if (now.arrived() > 0 && now.parties() != parties) {
                throw new InvalidArgumentException("the barrier '" + name + "' is gathering " + now.parties()
                        + " parties; this handle was made for " + parties);
            }
            if (now.arrived() + 1 >= parties) {
                return Decision.write(
                        new State(now.generation() + 1, 0, parties).encode(), new Arrival(now.generation(), 0, true));
            }
            return Decision.write(
                    new State(now.generation(), now.arrived() + 1, parties).encode(),
                    new Arrival(now.generation(), parties - 1 - now.arrived(), false));
        });
    }

    /**
     * Waits for the generation to move past the arrival's; when the wait ends any other way,
     * withdraws, unless the generation moved on meanwhile: then the party passed after all.
     */
    private int waitFor(VersionedRegister register, Arrival arrival, Duration timeout) throws InterruptedException {
        boolean passed;
        try {
            CompletableFuture<Boolean> waiting = RegisterWait.until(
                    recipes, name, value -> decode(value).generation() > arrival.generation(), timeout);
            passed = RegisterWait.join(waiting, timeout, "the barrier " + name);
        } catch (InterruptedException e) {
            try {
                if (withdraw(register, arrival) < 0) {
                    Thread.currentThread().interrupt(); // passed as it was interrupted: keep the flag
                    return arrival.index();
                }
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        } catch (RuntimeException e) {
            try {
                if (withdraw(register, arrival) < 0) {
                    return arrival.index();
                }
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        int waited = passed ? -1 : withdraw(register, arrival);
        if (waited < 0) {
            return arrival.index();
        }
        throw new LockTimeoutException("the barrier '" + name + "' did not gather its " + parties + " parties within "
                + timeout.toMillis() + " ms (" + waited + " arrived); this party withdrew");
    }

    /**
     * Takes this party's arrival back. Returns how many had arrived with it, or -1 if its generation
     * completed first: then it passed, and nothing is taken back.
     */
    private int withdraw(VersionedRegister register, Arrival arrival) {
        return CompareAndSetLoop.apply(register, read -> {
            State now = decode(RegisterWait.valueOf(read));
            if (now.generation() > arrival.generation()) {
                return Decision.keep(-1);
            }
            if (now.generation() < arrival.generation() || now.arrived() == 0) {
                return Decision.keep(0); // the register was rewritten under us: nothing of ours is left
            }
            return Decision.write(
                    new State(now.generation(), now.arrived() - 1, now.parties()).encode(), now.arrived());
        });
    }

    private VersionedRegister register() {
        CompareAndSetLoop.requireRegisters(client, "barriers");
        return client.register(name);
    }

    private State decode(byte[] value) {
        return decode(name, parties, value);
    }

    /** Reads the register's value; absent is generation 0 with nobody arrived of {@code parties}. */
    static State decode(String name, int parties, byte[] value) {
        if (value == null) {
            return new State(0, 0, parties);
        }
        String text = new String(value, StandardCharsets.UTF_8);
        String[] parts =
                text.startsWith(PREFIX) ? text.substring(PREFIX.length()).split(":", -1) : new String[0];
        if (parts.length == 3) {
            long generation = RecordNumbers.parse(parts[0]);
            int arrived = RecordNumbers.parseInt(parts[1]);
            int recorded = RecordNumbers.parseInt(parts[2]);
            if (generation >= 0 && arrived >= 0 && recorded >= 1) {
                return new State(generation, arrived, recorded);
            }
        }
        throw new InvalidArgumentException(
                "the register '" + name + "' holds something other than a barrier; give the barrier a name of its own");
    }
}
