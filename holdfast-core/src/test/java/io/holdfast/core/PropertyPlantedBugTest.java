package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.Example;
import net.jqwik.api.RandomGenerator;

/**
 * Test of the test: tables with a planted bug must make {@link PropertyChecker} fail. Each bug is
 * a wrapper around a real {@link LockTable} that changes its answers or its state after a command
 * (through package-private access, as a bug inside the table would). For each one:
 *
 * <ul>
 *   <li>a short fixed script passes on the real table and fails on the planted one, with every
 *       check on, and again with the model comparison off, so that the invariants alone catch it;
 *   <li>random scripts from the same generators as the properties find it within a bounded number
 *       of tries (fixed seed, so the test is deterministic and fast).
 * </ul>
 */
class PropertyPlantedBugTest {
    // ------------------------------------------------------------------------------- the bugs

    /** A table whose answers or state a bug changes after each command. */
    private static class Planted implements PropertySubject {
        final LockTable table;
        private final PropertySubject real;
        private final Function<LockTable, Planted> again;

        Planted(LockTable table, Function<LockTable, Planted> again) {
            this.table = table;
            this.real = PropertySubject.of(table);
            this.again = again;
        }

        /** The bug: may change {@code events} in place, the table, and the reply. */
        Reply plant(Command command, Reply reply, List<Event> events) {
            return reply;
        }

        @Override
        public final Reply apply(long time, Command command, EventSink sink) {
            List<Event> events = new ArrayList<>();
            Reply reply = plant(command, table.apply(time, command, events::add), events);
            events.forEach(sink::accept);
            return reply;
        }

        @Override
        public ModelView view() {
            return real.view();
        }

        @Override
        public long nextDeadline() {
            return real.nextDeadline();
        }

        @Override
        public List<LockInfo> list() {
            return real.list();
        }

        @Override
        public Optional<LockInfo> describe(String name) {
            return real.describe(name);
        }

        @Override
        public byte[] snapshot() {
            return real.snapshot();
        }

        /** A restored copy has the same bug. */
        @Override
        public PropertySubject restore(byte[] snapshot) {
            return again.apply(read(snapshot));
        }

        static LockTable read(byte[] snapshot) {
            try {
                return LockTable.readSnapshot(new ByteArrayInputStream(snapshot));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Grants {@code a} behind the table's back: a new hold with the next token. */
        Reply grantAnyway(Command.Acquire a) {
            Session s = table.parts().sessions.get(a.invocation().sessionId());
            Resource r = table.parts().queues.map().get(a.name());
            long token = table.lastToken() + 1;
            table.parts().queues.restoreClock(table.now(), token);
            table.parts()
                    .queues
                    .restoreHold(new Hold(s, r, a.owner(), token, a.mode(), a.permits(), table.now(), a.leaseMillis()));
            Reply granted = new Reply.Granted(token);
            s.remember(a.invocation().seq(), granted);
            return granted;
        }
    }

    /** Loses the second grant event of a step (two readers let in at once: the second never hears). */
    private static final class DropsSecondGrant extends Planted {
        DropsSecondGrant(LockTable t) {
            super(t, DropsSecondGrant::new);
        }

        @Override
        Reply plant(Command command, Reply reply, List<Event> events) {
            int grants = 0;
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i) instanceof Event.Granted && ++grants == 2) {
                    events.remove(i);
                    break;
                }
            }
            return reply;
        }
    }

    /** A try that finds the lock compatible but waiters queued is granted anyway (barging). */
    private static final class GrantsTryPastQueue extends Planted {
        GrantsTryPastQueue(LockTable t) {
            super(t, GrantsTryPastQueue::new);
        }

        @Override
        Reply plant(Command command, Reply reply, List<Event> events) {
            if (command instanceof Command.Acquire a && reply instanceof Reply.Busy) {
                Resource r = table.parts().queues.map().get(a.name());
                if (r != null
                        && r.queueHead != null
                        && r.blockedUntil <= table.now()
                        && r.compatible(a.mode(), a.permits())) {
                    return grantAnyway(a);
                }
            }
            return reply;
        }
    }

    /** An exclusive try on a held lock is granted anyway. */
    private static final class GrantsSecondWriter extends Planted {
        GrantsSecondWriter(LockTable t) {
            super(t, GrantsSecondWriter::new);
        }

        @Override
        Reply plant(Command command, Reply reply, List<Event> events) {
            if (command instanceof Command.Acquire a
                    && reply instanceof Reply.Busy
                    && a.mode() == LockMode.EXCLUSIVE
                    && table.parts().queues.map().get(a.name()).holderCount > 0) {
                return grantAnyway(a);
            }
            return reply;
        }
    }

    /** An expired session's locks get no lock-delay. */
    private static final class ForgetsLockDelay extends Planted {
        ForgetsLockDelay(LockTable t) {
            super(t, ForgetsLockDelay::new);
        }

        @Override
        Reply plant(Command command, Reply reply, List<Event> events) {
            if (command instanceof Command.ExpireSession) {
                table.parts().queues.map().values().forEach(r -> r.blockedUntil = 0);
            }
            return reply;
        }
    }

    /** Forgets every remembered reply: a retry is applied a second time. */
    private static final class ForgetsReplies extends Planted {
        ForgetsReplies(LockTable t) {
            super(t, ForgetsReplies::new);
        }

        @Override
        Reply plant(Command command, Reply reply, List<Event> events) {
            table.parts().sessions.all().forEach(Session::forgetReplies);
            return reply;
        }
    }

    /**
     * Restores a snapshot without rebuilding its timers: the bytes are the same, but the restored
     * replica never times out a lease or a wait it inherited.
     */
    private static final class RestoresWithoutTimers extends Planted {
        RestoresWithoutTimers(LockTable t) {
            super(t, RestoresWithoutTimers::new);
        }

        @Override
        public PropertySubject restore(byte[] snapshot) {
            LockTable copy = read(snapshot);
            try {
                Field timers = Queues.class.getDeclaredField("timers");
                timers.setAccessible(true);
                Field queue = Timers.class.getDeclaredField("queue");
                queue.setAccessible(true);
                ((Collection<?>) queue.get(timers.get(copy.parts().queues))).clear();
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
            return new RestoresWithoutTimers(copy);
        }
    }

    // ------------------------------------------------------------------------------- fixed scripts

    private static PropertyStep.Acquire acquire(int session, int name, int mode, long wait, long lease) {
        return new PropertyStep.Acquire(session, 1, name, mode, 1, 3, wait, lease, 0, 0);
    }

    private static final List<PropertyStep> TWO_READERS_WAKE = List.of(
            acquire(0, 0, 0, 0, 0), // s0 writes locks/a
            acquire(1, 0, 1, 5000, 0), // s1 and s2 queue to read
            acquire(2, 0, 1, 5000, 0),
            new PropertyStep.Release(-1, 0, false, 0, 10)); // s0 lets both in

    private static final List<PropertyStep> TRY_BEHIND_WRITER = List.of(
            acquire(0, 0, 1, 0, 0), // s0 reads
            acquire(1, 0, 0, 5000, 0), // s1 queues to write
            acquire(2, 0, 1, 0, 0)); // s2 tries to read: must not pass s1

    private static final List<PropertyStep> SECOND_WRITER = List.of(acquire(0, 0, 0, 0, 0), acquire(1, 0, 0, 0, 0));

    private static final List<PropertyStep> EXPIRE_WITH_LOCK_DELAY = List.of(
            acquire(1, 0, 0, 0, 0), // s1 (lock-delay 1500 ms) writes
            new PropertyStep.Expire(1, 10),
            acquire(0, 0, 0, 0, 0)); // s0 tries during the lock-delay

    private static final List<PropertyStep> RETRY_A_GRANT =
            List.of(acquire(0, 0, 0, 0, 0), new PropertyStep.Retry(0, 10));

    private static final List<PropertyStep> LEASE_RUNS_OUT =
            List.of(acquire(0, 0, 0, 0, 500), new PropertyStep.Tick(1000));

    private static void caught(
            List<PropertyStep> script, PropertySubject planted, PropertyChecker.Options o, String check) {
        assertThatThrownBy(() -> PropertyChecker.check(script, planted, o))
                .isInstanceOf(AssertionError.class)
                .hasMessageStartingWith(check);
    }

    private static void passesOnRealTable(List<PropertyStep> script) {
        assertThatCode(() -> PropertyChecker.check(
                        script, PropertySubject.of(new LockTable()), PropertyChecker.Options.all(1)))
                .doesNotThrowAnyException();
    }

    @Example
    void lostGrantEventIsCaught() {
        passesOnRealTable(TWO_READERS_WAKE);
        caught(TWO_READERS_WAKE, new DropsSecondGrant(new LockTable()), PropertyChecker.Options.all(-1), "model:");
        caught(
                TWO_READERS_WAKE,
                new DropsSecondGrant(new LockTable()),
                PropertyChecker.Options.invariantsOnly(),
                "tokens:");
    }

    @Example
    void bargingTryIsCaught() {
        passesOnRealTable(TRY_BEHIND_WRITER);
        caught(TRY_BEHIND_WRITER, new GrantsTryPastQueue(new LockTable()), PropertyChecker.Options.all(-1), "model:");
        caught(
                TRY_BEHIND_WRITER,
                new GrantsTryPastQueue(new LockTable()),
                PropertyChecker.Options.invariantsOnly(),
                "fifo:");
    }

    @Example
    void secondWriterIsCaught() {
        passesOnRealTable(SECOND_WRITER);
        caught(SECOND_WRITER, new GrantsSecondWriter(new LockTable()), PropertyChecker.Options.all(-1), "model:");
        caught(
                SECOND_WRITER,
                new GrantsSecondWriter(new LockTable()),
                PropertyChecker.Options.invariantsOnly(),
                "exclusion:");
    }

    @Example
    void missingLockDelayIsCaught() {
        passesOnRealTable(EXPIRE_WITH_LOCK_DELAY);
        caught(
                EXPIRE_WITH_LOCK_DELAY,
                new ForgetsLockDelay(new LockTable()),
                PropertyChecker.Options.all(-1),
                "model:");
        caught(
                EXPIRE_WITH_LOCK_DELAY,
                new ForgetsLockDelay(new LockTable()),
                PropertyChecker.Options.invariantsOnly(),
                "lock-delay:");
    }

    @Example
    void forgottenReplyIsCaught() {
        passesOnRealTable(RETRY_A_GRANT);
        caught(RETRY_A_GRANT, new ForgetsReplies(new LockTable()), PropertyChecker.Options.all(-1), "model:");
        caught(
                RETRY_A_GRANT,
                new ForgetsReplies(new LockTable()),
                PropertyChecker.Options.invariantsOnly(),
                "exactly-once:");
    }

    @Example
    void restoreThatLosesTimersIsCaught() {
        passesOnRealTable(LEASE_RUNS_OUT);
        // Same bytes, other behaviour: only running the restored table alongside shows it.
        caught(
                LEASE_RUNS_OUT,
                new RestoresWithoutTimers(new LockTable()),
                new PropertyChecker.Options(false, false, true, -1),
                "restored:");
        caught(
                LEASE_RUNS_OUT,
                new RestoresWithoutTimers(new LockTable()),
                new PropertyChecker.Options(false, false, false, 1), // joins after the grant
                "restored:");
    }

    // ------------------------------------------------------------------------------- random search

    /**
     * Runs generated scripts (the contended profile, 60 to 160 steps, a fixed seed) until one fails;
     * returns how many it took, or -1 after {@code limit}.
     */
    private static int triesToFind(Function<LockTable, PropertySubject> planted, int limit) {
        RandomGenerator<List<PropertyStep>> scripts = PropertyScripts.scripts(
                        PropertyScripts.Profile.CONTENDED, 60, 160)
                .generator(1000);
        Random random = new Random(20261122);
        for (int i = 1; i <= limit; i++) {
            List<PropertyStep> script = scripts.next(random).value();
            try {
                PropertyChecker.check(script, planted.apply(new LockTable()), PropertyChecker.Options.all(i));
            } catch (AssertionError e) {
                return i;
            }
        }
        return -1;
    }

    /** The first generated script that fails on the planted table (checked with restoreAt = its size). */
    private static List<PropertyStep> firstFailing(Function<LockTable, PropertySubject> planted, int limit) {
        RandomGenerator<List<PropertyStep>> scripts = PropertyScripts.scripts(
                        PropertyScripts.Profile.CONTENDED, 60, 160)
                .generator(1000);
        Random random = new Random(20261122);
        for (int i = 1; i <= limit; i++) {
            List<PropertyStep> script = scripts.next(random).value();
            try {
                PropertyChecker.check(
                        script, planted.apply(new LockTable()), PropertyChecker.Options.all(script.size()));
            } catch (AssertionError e) {
                return script;
            }
        }
        throw new AssertionError("no generated script failed");
    }

    @Example
    void randomScriptsFindEveryPlantedBug() {
        StringBuilder found = new StringBuilder("planted bugs found by random scripts after:");
        find("lost grant event", DropsSecondGrant::new, found);
        find("barging try", GrantsTryPastQueue::new, found);
        find("second writer", GrantsSecondWriter::new, found);
        find("missing lock-delay", ForgetsLockDelay::new, found);
        find("forgotten replies", ForgetsReplies::new, found);
        find("restore without timers", RestoresWithoutTimers::new, found);
        System.out.println(found);
    }

    private static void find(String bug, Function<LockTable, PropertySubject> planted, StringBuilder found) {
        int tries = triesToFind(planted, 100);
        assertThat(tries)
                .as("random scripts did not find the planted bug: " + bug)
                .isPositive();
        found.append(' ').append(bug).append(' ').append(tries).append(',');
    }

    @Example
    void failuresAreReportedWithASmallScript() {
        List<PropertyStep> script = firstFailing(GrantsTryPastQueue::new, 100);
        assertThat(script).hasSizeGreaterThan(10);
        PropertyChecker.Options options = PropertyChecker.Options.all(script.size());
        assertThatThrownBy(
                        () -> PropertyMinimizer.check(script, () -> new GrantsTryPastQueue(new LockTable()), options))
                .isInstanceOf(AssertionError.class)
                .satisfies(
                        e -> System.out.println(e.getMessage().lines().limit(12).reduce("", (a, b) -> a + "\n" + b)))
                .hasMessageMatching("(?s)smallest failing script found \\(\\d of \\d+ steps.*\\nmodel: .*");
    }
}
