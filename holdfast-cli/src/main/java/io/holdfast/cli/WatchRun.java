package io.holdfast.cli;

import io.holdfast.HoldfastException;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;

/**
 * One run of a watch on the command line, for {@code holdfast watch} and {@code holdfast kv watch}:
 * opens the backend's client, prints each event ({@link WatchLines}), flushed at once, and decides
 * when it is done (after {@code count} events, after {@code timeout}, when the lock {@code
 * untilFree} names is free, or on SIGINT/SIGTERM), then closes the watch and the client.
 *
 * <p>Exit codes: {@value ExitCodes#OK}; {@value ExitCodes#NOT_ACQUIRED} when the lock was still held
 * after the timeout ({@code untilFree}); {@value ExitCodes#USAGE} for a backend that cannot watch
 * the target. Failure story: the backend refuses the watch after it started (permission, a feature
 * it lacks): the events so far stay printed, then one line on stderr names the refusal and the exit
 * code is the failure's ({@link ExitCodes#of}).
 */
final class WatchRun {
    /** How long a signal waits for the watch and the client to close before the process exits anyway. */
    private static final Duration CLOSE_ON_SIGNAL = Duration.ofSeconds(5);

    private final CommandSpec spec;
    private final WatchTarget target;
    private final boolean json;
    private final Integer count;
    private final Duration timeout;
    private final String untilFree;
    /** For a watch of keys: the position to follow from ({@code kv watch --from}); null to start with the state. */
    private String from;

    /**
     * @param count stop after this many events (null: no limit)
     * @param timeout stop after this long (null: none)
     * @param untilFree the lock whose freedom ends the run; null for none
     */
    WatchRun(CommandSpec spec, WatchTarget target, boolean json, Integer count, Duration timeout, String untilFree) {
        this.spec = spec;
        this.target = target;
        this.json = json;
        this.count = count;
        this.timeout = timeout;
        this.untilFree = untilFree;
    }

    /** This run, for a watch of keys, from {@code position} (a listing's): the changes after it. */
    WatchRun from(String position) {
        this.from = position;
        return this;
    }

    /** Checks the limits, opens the backend's client and follows the watch until it is done. */
    int run(BackendOption backend) throws InterruptedException {
        if (count != null && count < 1) {
            throw new CliFailure(ExitCodes.USAGE, "--count must be at least 1, not " + count);
        }
        if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
            throw new CliFailure(ExitCodes.USAGE, "--timeout must be more than 0");
        }
        LockClient client = Backends.open(backend.uri());
        Follower follower =
                new Follower(new WatchLines(target, json), spec.commandLine().getOut());
        CountDownLatch closed = new CountDownLatch(1);
        Thread onSignal = onSignal(follower, closed);
        try {
            return follow(client, target, follower);
        } finally {
            HeldChild.removeOnSignal(onSignal);
            try {
                client.close();
            } finally {
                closed.countDown();
            }
        }
    }

    private int follow(LockClient client, WatchTarget target, Follower follower) throws InterruptedException {
        Watch watch;
        try {
            watch = from == null
                    ? client.watch(target, follower)
                    : client.keys().watch(target.name(), from, follower);
        } catch (UnsupportedFeatureException | io.holdfast.InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        try (watch) {
            follower.await(timeout);
            boolean stopped = follower.finish();
            HoldfastException ended = follower.ended;
            if (ended instanceof UnsupportedFeatureException) {
                throw new CliFailure(ExitCodes.USAGE, ended.getMessage(), ended);
            }
            if (ended != null) {
                throw ended;
            }
            if (!stopped && untilFree != null) {
                throw new CliFailure(
                        ExitCodes.NOT_ACQUIRED,
                        "'" + untilFree + "' was still held after " + Durations.format(timeout));
            }
            return ExitCodes.OK;
        }
    }

    /**
     * What SIGINT or SIGTERM does while watching: stop printing, let {@link #call} close the watch and the client
     * (at most {@link #CLOSE_ON_SIGNAL}), then end the process with 0: a watch stopped by its user has done its
     * job. {@link Runtime#halt} because the JVM, already exiting with 128 + the signal, takes no other code.
     */
    private static Thread onSignal(Follower follower, CountDownLatch closed) {
        Thread hook = new Thread(
                () -> {
                    follower.finish();
                    try {
                        closed.await(CLOSE_ON_SIGNAL.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    follower.out.flush();
                    Runtime.getRuntime().halt(ExitCodes.OK);
                },
                "holdfast-watch-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /**
     * Prints each event and decides when the command is done: after {@code --count} events, when the lock is free
     * ({@code --until-free}), or when the watch ends by itself (refused, its client closed). Events after that are
     * not printed. Whether the lock is free follows the holders' tokens as {@link LockClient#awaitFree} does: a
     * {@code STATE} replaces them, {@code ACQUIRED} adds one, {@code RELEASED} removes one.
     */
    private final class Follower implements WatchListener {
        private final WatchLines lines;
        private final PrintWriter out;
        private final CountDownLatch done = new CountDownLatch(1);
        private final Set<Long> holders = new HashSet<>();
        private boolean finished;
        private int events;
        private volatile HoldfastException ended;

        Follower(WatchLines lines, PrintWriter out) {
            this.lines = lines;
            this.out = out;
        }

        @Override
        public synchronized void onEvent(WatchEvent event) {
            if (finished) {
                return;
            }
            lines.of(event).forEach(out::println);
            out.flush();
            events++;
            if ((untilFree != null && isFree(event)) || (count != null && events >= count)) {
                finish();
            }
        }

        @Override
        public void onEnd(HoldfastException cause) {
            if (cause != null) {
                ended = cause;
                finish();
            }
        }

        private boolean isFree(WatchEvent event) {
            switch (event.type()) {
                case STATE -> {
                    holders.clear();
                    event.locks().forEach(l -> l.holders().forEach(h -> holders.add(h.fencingToken())));
                }
                case ACQUIRED -> holders.add(event.fencingToken());
                case RELEASED -> holders.remove(event.fencingToken());
                default -> {
                    return false;
                }
            }
            return holders.isEmpty();
        }

        /** Prints nothing more and lets {@link #await} return; true if it was already done before this call. */
        synchronized boolean finish() {
            boolean was = finished;
            finished = true;
            done.countDown();
            return was;
        }

        /** Waits until done, or {@code timeout} (null: none) passed. */
        void await(Duration timeout) throws InterruptedException {
            if (timeout == null) {
                done.await();
            } else {
                done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }
}
