package io.holdfast.core;

import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Runs a {@link PropertyStep} script against a {@link PropertySubject} and checks, after every
 * step:
 *
 * <ol>
 *   <li>model: the reply (normalized: type, error code, token, hold count, value) and the events
 *       (exactly, in order) equal those of {@link ModelTable}, and so do the state (holders,
 *       queues, lock-delays, sessions with their remembered replies, registers, clock, last token)
 *       and the next deadline;
 *   <li>invariants: every rule of {@link PropertyInvariants}, on the subject alone;
 *   <li>snapshot: writing, reading and writing again gives the same bytes (the format is
 *       canonical);
 *   <li>restored: a table read from the snapshot taken after the previous step gets this step's
 *       command too, and must answer exactly the same reply (message included) and events, and
 *       end in the same state, as every replica that installs a snapshot must. So every
 *       step is a restore point; in addition, a copy restored before script step {@code
 *       restoreAt} runs in lockstep with the subject until the end.
 * </ol>
 *
 * The first failure is thrown as an {@link AssertionError} naming the check, the step, the command,
 * and the last steps before it.
 */
final class PropertyChecker {
    /**
     * What to check.
     *
     * @param restoreAt the script step before which a restored copy joins (taken modulo the
     *     script's length + 1), or -1 for none
     */
    record Options(boolean compareWithModel, boolean checkInvariants, boolean snapshotEveryStep, int restoreAt) {
        static Options all(int restoreAt) {
            return new Options(true, true, true, restoreAt);
        }

        static Options invariantsOnly() {
            return new Options(false, true, false, -1);
        }
    }

    private static final int TRACE = 16;

    /** One applied step, formatted only if something fails. */
    private record Traced(String where, long time, Command command, Reply reply, List<Event> events) {
        @Override
        public String toString() {
            return where + "\n        at " + time + ": " + command + "\n        -> " + reply
                    + (events.isEmpty() ? "" : " " + events);
        }
    }

    private final Options options;
    private final PropertySubject table;
    private PropertySubject copy;
    private PropertySubject shadow;
    private final ModelTable model = new ModelTable();
    private final PropertyClients clients = new PropertyClients();
    private final PropertyInvariants invariants = new PropertyInvariants();
    private final PropertyCoverage coverage = new PropertyCoverage();
    private final Deque<Object> trace = new ArrayDeque<>();
    private String where = "";
    private int scriptStep = -1;
    private int traceLimit = TRACE;

    private PropertyChecker(PropertySubject table, Options options) {
        this.table = table;
        this.options = options;
    }

    /**
     * Checks {@code script} against {@code subject}, a fresh table; throws on the first failure.
     *
     * @return the features the script reached, for coverage statistics
     */
    static java.util.Set<String> check(List<PropertyStep> script, PropertySubject subject, Options options) {
        PropertyChecker checker = new PropertyChecker(subject, options);
        checker.run(script);
        return checker.coverage.features();
    }

    /** Runs {@code script} on a new table with every check and returns every step with its answer. */
    static String transcript(List<PropertyStep> script) {
        PropertyChecker checker = new PropertyChecker(PropertySubject.of(new LockTable()), Options.all(-1));
        checker.traceLimit = Integer.MAX_VALUE;
        checker.run(script);
        StringBuilder out = new StringBuilder();
        checker.trace.forEach(line -> out.append(line).append('\n'));
        return out.toString();
    }

    private void run(List<PropertyStep> script) {
        List<PropertyClients.Resolved> prelude = clients.prelude();
        int restoreBefore = options.restoreAt() < 0 ? -1 : prelude.size() + options.restoreAt() % (script.size() + 1);
        ModelView view = table.view();
        for (int i = 0; i <= prelude.size() + script.size(); i++) {
            if (i == restoreBefore) {
                joinRestoredCopy();
            }
            if (i == prelude.size() + script.size()) {
                break;
            }
            PropertyClients.Resolved step;
            if (i < prelude.size()) {
                step = prelude.get(i);
                where = "prelude " + i;
                scriptStep = -1;
            } else {
                PropertyStep s = script.get(i - prelude.size());
                step = clients.resolve(s, view);
                where = "script step " + (i - prelude.size()) + ": " + s;
                scriptStep = i - prelude.size();
            }
            view = apply(step, view);
        }
    }

    private ModelView apply(PropertyClients.Resolved step, ModelView before) {
        long time = step.time();
        Command command = step.command();
        List<Event> events = new ArrayList<>();
        Reply reply = applySafely(table, time, command, events, "table");
        ModelView after = table.view();
        trace(new Traced(where, time, command, reply, events));
        if (options.compareWithModel()) {
            compareWithModel(time, command, reply, events, after);
        }
        if (options.checkInvariants()) {
            try {
                invariants.check(step, before, after, reply, events, table);
            } catch (AssertionError e) {
                throw failure(e.getMessage());
            }
        }
        if (options.snapshotEveryStep()) {
            byte[] snapshot = table.snapshot();
            if (shadow != null) {
                stepAlongside(shadow, "table restored after the previous step", time, command, reply, events, after);
            }
            if (copy != null) {
                stepAlongside(copy, "table restored earlier", time, command, reply, events, after);
            }
            shadow = table.restore(snapshot);
            if (!Arrays.equals(snapshot, shadow.snapshot())) {
                throw failure("snapshot: writing a restored table gives other bytes");
            }
        } else if (copy != null) {
            stepAlongside(copy, "table restored earlier", time, command, reply, events, after);
        }
        coverage.note(step, before, reply, events);
        clients.observe(step, reply, events);
        return after;
    }

    private void compareWithModel(long time, Command command, Reply reply, List<Event> events, ModelView after) {
        List<Event> expectedEvents = new ArrayList<>();
        Reply expected = model.apply(time, command, expectedEvents);
        if (!ModelView.norm(reply).equals(ModelView.norm(expected))) {
            throw failure("model: the table answered " + reply + ", the model " + expected);
        }
        if (!events.equals(expectedEvents)) {
            throw failure("model: the table emitted " + events + "\n  the model " + expectedEvents);
        }
        ModelView mine = after.effective();
        ModelView theirs = model.view().effective();
        if (!mine.equals(theirs)) {
            throw failure("model: states differ (table first, model second):\n" + mine.diff(theirs));
        }
        long next = table.nextDeadline();
        long expectedNext = model.nextDeadline();
        // A timer of a resource that is gone may linger until the next tick: harmless if it is due.
        if (next != expectedNext && !(next < expectedNext && next <= after.now())) {
            throw failure("model: next deadline " + next + ", the model's " + expectedNext);
        }
    }

    private void joinRestoredCopy() {
        byte[] snapshot = table.snapshot();
        copy = table.restore(snapshot);
        trace("-- a copy restored from a snapshot joins here --");
        if (!Arrays.equals(snapshot, copy.snapshot())) {
            throw failure("restored: the copy differs from the table it was read from:\n"
                    + copy.view().diff(table.view()));
        }
    }

    private void stepAlongside(
            PropertySubject other,
            String who,
            long time,
            Command command,
            Reply reply,
            List<Event> events,
            ModelView after) {
        List<Event> otherEvents = new ArrayList<>();
        Reply otherReply = applySafely(other, time, command, otherEvents, who);
        if (!otherReply.equals(reply)) {
            throw failure("restored: the " + who + " answered " + otherReply + ", the table " + reply);
        }
        if (!otherEvents.equals(events)) {
            throw failure("restored: the " + who + " emitted " + otherEvents + "\n  the table " + events);
        }
        ModelView otherView = other.view();
        if (!otherView.equals(after)) {
            throw failure("restored: the " + who + " now differs:\n" + otherView.diff(after));
        }
        long next = table.nextDeadline();
        long otherNext = other.nextDeadline();
        // As above: a lingering due timer of a dropped resource is not in a snapshot.
        if (next != otherNext && Math.min(next, otherNext) > after.now()) {
            throw failure("restored: the " + who + " has next deadline " + otherNext + ", the table " + next);
        }
    }

    private Reply applySafely(PropertySubject subject, long time, Command command, List<Event> events, String who) {
        try {
            Reply reply = subject.apply(time, command, events::add);
            if (reply == null) {
                throw failure("apply: the " + who + " answered null to " + command);
            }
            if (reply instanceof Reply.Failed f
                    && f.message() != null
                    && f.message().startsWith("internal error")) {
                throw failure("apply: the " + who + " hit a bug (answered as an error) for " + command + ": " + f);
            }
            return reply;
        } catch (RuntimeException e) {
            AssertionError error = failure("apply: the " + who + " threw " + e + " for " + command);
            error.initCause(e);
            throw error;
        }
    }

    private void trace(Object line) {
        if (trace.size() >= traceLimit) {
            trace.removeFirst();
        }
        trace.addLast(line);
    }

    private AssertionError failure(String message) {
        StringBuilder out =
                new StringBuilder(message).append("\n  at ").append(where).append("\n  last steps:");
        for (Object line : trace) {
            out.append("\n    ").append(line);
        }
        return new Failure(out.toString(), message.substring(0, Math.max(0, message.indexOf(':'))), scriptStep);
    }

    /**
     * A failed check.
     *
     * @param check the name of the check or rule that failed ("model", "fifo", ...)
     * @param step the index of the script step at which it failed, -1 in the prelude
     */
    static final class Failure extends AssertionError {
        private static final long serialVersionUID = 1L;

        final String check;
        final int step;

        Failure(String message, String check, int step) {
            super(message);
            this.check = check;
            this.step = step;
        }
    }
}
