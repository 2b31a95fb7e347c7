package io.holdfast.core;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple4;

/**
 * Generators of {@link PropertyStep} scripts over a small universe, so that requests collide: four
 * sessions (two with a lock-delay) and a fifth id that is never opened, two owners per session,
 * three lock names, one semaphore of three permits, one bad name, two register keys. Waits and
 * leases are short against the clock steps (a tick moves up to 3 s), so timeouts, lease losses and
 * lock-delays happen within a few dozen steps.
 *
 * <p>Two profiles share the grammar: {@link Profile#MIXED} uses every command and every name;
 * {@link Profile#CONTENDED} crowds two lock names and the semaphore with more readers and longer
 * waits, releases more, expires sessions with a lock-delay often and ticks often in shorter steps,
 * for the interplay of queues, deadlines and lock-delays (and several grants in one step).
 */
final class PropertyScripts {
    private PropertyScripts() {}

    enum Profile {
        MIXED,
        CONTENDED
    }

    /** Scripts of {@code min} to {@code max} steps. */
    static Arbitrary<List<PropertyStep>> scripts(Profile profile, int min, int max) {
        return step(profile).list().ofMinSize(min).ofMaxSize(max);
    }

    @SuppressWarnings("unchecked")
    static Arbitrary<PropertyStep> step(Profile p) {
        boolean mixed = p == Profile.MIXED;
        return Arbitraries.frequencyOf(
                Tuple.of(36, acquire(p)),
                Tuple.of(mixed ? 15 : 20, tick(p)),
                Tuple.of(mixed ? 12 : 14, release()),
                Tuple.of(4, renew()),
                Tuple.of(4, cancel()),
                Tuple.of(mixed ? 7 : 12, open()),
                Tuple.of(mixed ? 2 : 5, expire(p)),
                Tuple.of(mixed ? 2 : 1, close()),
                Tuple.of(2, revoke()),
                Tuple.of(mixed ? 5 : 1, setRegister()),
                Tuple.of(mixed ? 4 : 1, keyStep()),
                Tuple.of(7, retry()),
                Tuple.of(2, keepAlive()),
                Tuple.of(mixed ? 1 : 0, malformed()));
    }

    /** Uniform, not jqwik's default bias towards small numbers: time must really pass. */
    private static Arbitrary<Integer> ints(int min, int max) {
        return Arbitraries.integers().between(min, max).withDistribution(RandomDistribution.uniform());
    }

    private static Arbitrary<Long> longs(long min, long max) {
        return Arbitraries.longs().between(min, max).withDistribution(RandomDistribution.uniform());
    }

    /** Sessions 0 to 3, and now and then 4, the id that is never opened. */
    private static Arbitrary<Integer> session() {
        return Arbitraries.frequency(
                Tuple.of(25, 0), Tuple.of(25, 1), Tuple.of(24, 2), Tuple.of(24, 3), Tuple.of(2, 4));
    }

    /** Clock step of a client command: mostly small, sometimes sent with an earlier time. */
    private static Arbitrary<Integer> dt() {
        return Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.just(0)), Tuple.of(67, ints(1, 300)), Tuple.of(3, ints(-3000, -1)));
    }

    private static Arbitrary<Integer> ack() {
        return Arbitraries.frequency(Tuple.of(55, 0), Tuple.of(30, 1), Tuple.of(10, 2), Tuple.of(5, 3));
    }

    /** An index into the tokens seen, counted back from the newest; -1 and -2 are made-up tokens. */
    private static Arbitrary<Integer> pick() {
        return Arbitraries.frequencyOf(Tuple.of(92, ints(0, 6)), Tuple.of(8, ints(-2, -1)));
    }

    private static Arbitrary<Long> waitMillis(Profile p) {
        if (p == Profile.CONTENDED) {
            return Arbitraries.frequencyOf(
                    Tuple.of(15, Arbitraries.just(0L)), Tuple.of(40, longs(50, 2500)), Tuple.of(45, longs(2500, 8000)));
        }
        return Arbitraries.frequencyOf(
                Tuple.of(40, Arbitraries.just(0L)),
                Tuple.of(46, longs(50, 3000)),
                Tuple.of(12, longs(3000, 9000)),
                Tuple.of(1, Arbitraries.of(-1L, -500L)),
                Tuple.of(1, Arbitraries.just(Limits.MAX_WAIT_MILLIS + 1)));
    }

    private static Arbitrary<Long> leaseMillis() {
        return Arbitraries.frequencyOf(
                Tuple.of(60, Arbitraries.just(0L)),
                Tuple.of(38, longs(Limits.MIN_LEASE_MILLIS, 4000)),
                Tuple.of(2, Arbitraries.of(50L, -5L)));
    }

    private static Arbitrary<PropertyStep> acquire(Profile p) {
        Arbitrary<Integer> name = p == Profile.CONTENDED
                ? Arbitraries.frequency(Tuple.of(55, 0), Tuple.of(25, 1), Tuple.of(20, PropertyClients.SEMAPHORE))
                : Arbitraries.frequency(
                        Tuple.of(40, 0),
                        Tuple.of(24, 1),
                        Tuple.of(13, 2),
                        Tuple.of(22, PropertyClients.SEMAPHORE),
                        Tuple.of(1, PropertyClients.BAD_NAME));
        Arbitrary<Integer> mode = p == Profile.CONTENDED
                ? Arbitraries.frequency(Tuple.of(40, 0), Tuple.of(58, 1), Tuple.of(2, 2))
                : Arbitraries.frequency(Tuple.of(55, 0), Tuple.of(40, 1), Tuple.of(4, 2), Tuple.of(1, 3));
        Arbitrary<Integer> permits = Arbitraries.frequency(
                Tuple.of(50, 1), Tuple.of(30, 2), Tuple.of(18, 3), Tuple.of(1, 4), Tuple.of(1, 0));
        Arbitrary<Integer> semSize = Arbitraries.frequency(Tuple.of(96, PropertyClients.SEM_SIZE), Tuple.of(4, 2));
        Arbitrary<Integer> owner = Arbitraries.integers().between(1, 2);
        Arbitrary<Tuple4<Integer, Integer, Integer, Integer>> who =
                Combinators.combine(session(), owner, name, mode).as(Tuple::of);
        return Combinators.combine(who, permits, semSize, waitMillis(p), leaseMillis(), ack(), dt())
                .as((x, n, size, w, l, a, dt) ->
                        new PropertyStep.Acquire(x.get1(), x.get2(), x.get3(), x.get4(), n, size, w, l, a, dt));
    }

    /** Contended scripts tick in smaller steps, so that waiters live to see the holder go. */
    private static Arbitrary<PropertyStep> tick(Profile p) {
        int max = p == Profile.CONTENDED ? 1500 : 3000;
        return Arbitraries.frequencyOf(Tuple.of(10, Arbitraries.just(0)), Tuple.of(90, ints(1, max)))
                .map(PropertyStep.Tick::new);
    }

    /** Mostly the session the token or wait belongs to (-1), sometimes another one. */
    private static Arbitrary<Integer> ownSession() {
        return Arbitraries.frequencyOf(Tuple.of(80, Arbitraries.just(-1)), Tuple.of(20, session()));
    }

    private static Arbitrary<Boolean> otherName() {
        return Arbitraries.frequency(Tuple.of(90, false), Tuple.of(10, true));
    }

    private static Arbitrary<PropertyStep> release() {
        return Combinators.combine(ownSession(), pick(), otherName(), ack(), dt())
                .as(PropertyStep.Release::new);
    }

    private static Arbitrary<PropertyStep> renew() {
        return Combinators.combine(ownSession(), pick(), otherName(), ack(), dt())
                .as(PropertyStep.Renew::new);
    }

    private static Arbitrary<PropertyStep> cancel() {
        return Combinators.combine(ownSession(), ints(0, 6), otherName(), ack(), dt())
                .as(PropertyStep.Cancel::new);
    }

    private static Arbitrary<PropertyStep> open() {
        Arbitrary<Integer> variant =
                Arbitraries.frequency(Tuple.of(88, 0), Tuple.of(6, 1), Tuple.of(2, 2), Tuple.of(2, 3), Tuple.of(2, 4));
        return Combinators.combine(ints(0, 3), variant, dt()).as(PropertyStep.Open::new);
    }

    private static Arbitrary<PropertyStep> keepAlive() {
        return Combinators.combine(session(), dt()).as(PropertyStep.KeepAlive::new);
    }

    /** Contended scripts mostly expire the sessions with a lock-delay (1 and 3). */
    private static Arbitrary<PropertyStep> expire(Profile p) {
        Arbitrary<Integer> session = p == Profile.CONTENDED
                ? Arbitraries.frequency(Tuple.of(10, 0), Tuple.of(40, 1), Tuple.of(10, 2), Tuple.of(40, 3))
                : session();
        return Combinators.combine(session, dt()).as(PropertyStep.Expire::new);
    }

    private static Arbitrary<PropertyStep> close() {
        return Combinators.combine(session(), ack(), dt()).as(PropertyStep.Close::new);
    }

    private static Arbitrary<PropertyStep> revoke() {
        return Combinators.combine(ints(0, PropertyClients.BAD_NAME), dt()).as(PropertyStep.Revoke::new);
    }

    private static Arbitrary<PropertyStep> setRegister() {
        Arbitrary<Integer> key = Arbitraries.frequency(Tuple.of(48, 0), Tuple.of(48, 1), Tuple.of(4, 2));
        Arbitrary<Integer> expect =
                Arbitraries.frequency(Tuple.of(75, 0), Tuple.of(5, 1), Tuple.of(10, 2), Tuple.of(10, 3));
        Arbitrary<Integer> fence =
                Arbitraries.frequencyOf(Tuple.of(60, Arbitraries.just(-1)), Tuple.of(40, ints(0, 6)));
        return Combinators.combine(session(), key, expect, fence, ack(), dt()).as(PropertyStep.SetRegister::new);
    }

    private static Arbitrary<PropertyStep> keyStep() {
        Arbitrary<Integer> key = Arbitraries.frequency(Tuple.of(48, 0), Tuple.of(48, 1), Tuple.of(4, 2));
        Arbitrary<Integer> kind =
                Arbitraries.frequency(Tuple.of(40, 0), Tuple.of(20, 1), Tuple.of(20, 2), Tuple.of(20, 3));
        return Combinators.combine(session(), key, kind, ack(), dt()).as(PropertyStep.KeyStep::new);
    }

    private static Arbitrary<PropertyStep> retry() {
        return Combinators.combine(ints(0, 8), dt()).as(PropertyStep.Retry::new);
    }

    private static Arbitrary<PropertyStep> malformed() {
        return Combinators.combine(session(), ints(0, 7), dt()).as(PropertyStep.Malformed::new);
    }
}
