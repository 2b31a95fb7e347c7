package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which interesting situations a script reached. A property that passes proves little if its
 * scripts never queue, time out or expire anything, so the property tests count these over all
 * tries and fail when one becomes rare (see {@link Tally}).
 */
final class PropertyCoverage {
    private final Set<String> features = new TreeSet<>();
    private final Set<String> opened = new TreeSet<>();
    private long lastTick;

    Set<String> features() {
        return features;
    }

    void note(PropertyClients.Resolved step, ModelView before, Reply reply, List<Event> events) {
        Command command = step.command();
        for (Event e : events) {
            if (e instanceof Event.Granted) {
                features.add("queued grant");
            } else if (e instanceof Event.WaitTimedOut) {
                features.add("wait timed out");
            } else if (e instanceof Event.Lost l) {
                features.add("lost: " + l.reason().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        if (events.stream().filter(e -> e instanceof Event.Granted).count() > 1) {
            features.add("several grants in one step");
        }
        if (command != null && step.time() < before.now()) {
            features.add("time sent late");
        }
        if (reply instanceof Reply.Busy) {
            features.add("busy");
        }
        if (reply instanceof Reply.Failed f && f.code() == ErrorCode.DEADLOCK) {
            features.add("deadlock");
        }
        if (command instanceof Command.CancelWait && reply.equals(new Reply.Ok(1))) {
            features.add("cancelled");
        }
        if (reply instanceof Reply.Written) {
            features.add("register written");
        }
        if (command instanceof RegisterSet s
                && s.fenceName() != null
                && reply instanceof Reply.Failed f
                && f.code() == ErrorCode.CONFLICT) {
            features.add("fenced write refused");
        }
        if (reply instanceof Reply.Counted) {
            features.add("counter added");
        }
        if (command instanceof KeyDelete && reply instanceof Reply.Ok ok && ok.value() > 0) {
            features.add("key deleted");
        }
        String ending = command instanceof Command.ExpireSession x && reply.equals(new Reply.Ok(1))
                ? x.sessionId()
                : command instanceof Command.CloseSession x && !step.retry() && reply.equals(Reply.Ok.INSTANCE)
                        ? x.invocation().sessionId()
                        : null;
        if (ending != null && before.registers().stream().anyMatch(r -> ending.equals(r.owner()))) {
            features.add("key deleted with its session");
        }
        if (step.retry()) {
            boolean answered = !(reply instanceof Reply.Failed f
                    && (f.code() == ErrorCode.SESSION_EXPIRED || f.code() == ErrorCode.INVALID_ARGUMENT));
            features.add(answered ? "retry answered from memory" : "retry refused");
            if (command instanceof Command.Acquire
                    && (reply instanceof Reply.Granted
                            || (reply instanceof Reply.Failed f && f.code() == ErrorCode.TIMEOUT))) {
                features.add("retry learns a decided wait");
            }
        }
        if (command instanceof Command.ExpireSession x && reply.equals(new Reply.Ok(1))) {
            boolean held = before.resources().stream()
                    .anyMatch(
                            r -> r.holders().stream().anyMatch(h -> h.session().equals(x.sessionId())));
            if (held && before.session(x.sessionId()).lockDelayMillis() > 0) {
                features.add("lock-delay imposed");
            }
        }
        if (command instanceof Command.Tick) {
            for (Event e : events) {
                if (e instanceof Event.Granted g) {
                    ModelView.VRes r = before.resource(g.name());
                    if (r != null && r.blockedUntil() > lastTick) {
                        features.add("granted when lock-delay ended");
                    }
                }
            }
            lastTick = Math.max(before.now(), step.time());
        }
        if (command instanceof Command.OpenSession o
                && reply.equals(new Reply.Ok(0))
                && before.session(o.sessionId()) == null) {
            if (!opened.add(o.sessionId())) {
                features.add("session reopened");
            }
        }
        for (ModelView.VRes r : before.resources()) {
            if (r.semaphore() && r.holders().size() > 1) {
                features.add("semaphore shared");
            }
            if (r.holders().stream().filter(h -> h.mode() == LockMode.SHARED).count() > 1) {
                features.add("readers together");
            }
            if (r.queue().size() > 2) {
                features.add("queue of 3+");
            }
        }
    }

    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime()
                : 0;
    }

    private static long cpuNanos() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    /** Counts features over the tries of one property and checks that each is common enough. */
    static final class Tally {
        private final Map<String, Integer> counts = new TreeMap<>();
        private int tries;
        private PropertyScripts.Profile profile;
        private final long startCpu = cpuNanos();
        private final long startProcessCpu = processCpuNanos();

        synchronized void add(Set<String> features) {
            tries++;
            for (String f : features) {
                counts.merge(f, 1, Integer::sum);
            }
        }

        synchronized void profile(PropertyScripts.Profile p) {
            profile = p;
        }

        /** {@link #require} for the scripts of one profile only. */
        synchronized void requireFor(PropertyScripts.Profile p, int percent, String... required) {
            if (p == profile) {
                require(percent, required);
            }
        }

        boolean isEmpty() {
            return tries == 0;
        }

        /** One line: each feature with the percentage of scripts that reached it. */
        synchronized String summary() {
            StringBuilder out = new StringBuilder(tries + " scripts in " + (cpuNanos() - startCpu) / 1_000_000
                    + " ms of CPU (" + (processCpuNanos() - startProcessCpu) / 1_000_000 + " ms for the whole JVM);");
            counts.forEach((f, n) -> out.append(' ')
                    .append(f)
                    .append(' ')
                    .append(100 * n / tries)
                    .append("%,"));
            return out.toString();
        }

        /** Fails if one of {@code required} was reached by fewer than {@code percent}% of the scripts. */
        synchronized void require(int percent, String... required) {
            for (String f : required) {
                int n = counts.getOrDefault(f, 0);
                if (tries > 0 && 100 * n < percent * tries) {
                    throw new AssertionError("coverage: only " + n + " of " + tries + " scripts reached '" + f
                            + "' (needed " + percent + "%): the generators have drifted\n" + summary());
                }
            }
        }
    }
}
