package io.holdfast.cli;

import io.holdfast.HoldfastException;
import io.holdfast.InvalidArgumentException;
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
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast watch NAME | 'PREFIX*' | --register KEY}: prints what {@link LockClient#watch} reports, one line
 * per event ({@link WatchLines}), first the complete state, flushed after each event so that a pipe sees it at
 * once.
 *
 * <p>It stops with exit code 0 after {@code --count} events (the state counts as one), after {@code --timeout},
 * as soon as the lock is free with {@code --until-free} (nobody holds it: the semantics of {@link
 * LockClient#awaitFree}, waiters do not count), or on SIGINT/SIGTERM (the watch and the client are closed first).
 * {@value ExitCodes#NOT_ACQUIRED} when {@code --until-free --timeout} passed with the lock still held; {@value
 * ExitCodes#USAGE} for bad input or a backend that cannot watch; {@value ExitCodes#BACKEND_UNAVAILABLE} when the
 * backend cannot be reached at the start. Once running, a lost connection delays events but does not end the
 * command: the watch resumes where it was, and says {@code STATE} again if it cannot fill the gap.
 *
 * <p>Not guaranteed: that every change is printed. On a backend that polls (no {@link io.holdfast.Capability#WATCH})
 * a lock taken and given back within 100 ms is not seen and causes are {@code UNKNOWN}. Failure story: the
 * backend refuses the watch after it started (permission, a feature it lacks): the events so far stay printed,
 * then one line on stderr names the refusal and the exit code is the failure's ({@link ExitCodes#of}).
 */
@Command(
        name = "watch",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Print the changes of the lock NAME, of every lock whose name starts with PREFIX ('PREFIX*', quoted;"
                    + " '*' for all), or of a register (--register KEY): first the current state, then one line"
                    + " per change. --json prints one JSON object per line.",
            "Runs until --count events, --timeout, the lock is free (--until-free) or SIGINT/SIGTERM.",
            "Exit code: 0; 75 still held after --timeout (--until-free); 69 backend unavailable; 64 usage error or"
                    + " a backend that cannot watch."
        })
final class WatchCommand implements Callable<Integer> {
    /** How long a signal waits for the watch and the client to close before the process exits anyway. */
    private static final Duration CLOSE_ON_SIGNAL = Duration.ofSeconds(5);

    @Spec
    CommandSpec spec;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "NAME|PREFIX*",
            description = "The lock to watch (e.g. jobs/nightly), or PREFIX followed by * for every lock whose"
                    + " name starts with PREFIX (quote it for the shell).")
    String name;

    @Option(names = "--register", paramLabel = "KEY", description = "Watch the register KEY instead of locks.")
    String register;

    @Option(names = "--json", description = "Print one JSON object per line (fields: docs/cli.md).")
    boolean json;

    @Option(names = "--count", paramLabel = "N", description = "Exit 0 after N events (the state counts as one).")
    Integer count;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Exit 0 after this long (with --until-free: exit 75 if the lock is still held).")
    Duration timeout;

    @Option(
            names = "--until-free",
            description = "Exit 0 as soon as nobody holds the lock NAME (at once if nobody does).")
    boolean untilFree;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() throws InterruptedException {
        WatchTarget target = target();
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

    /** The target from NAME or --register; a usage error for none, both, or a bad name. */
    private WatchTarget target() {
        if ((name == null) == (register == null)) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    "give one lock NAME, 'PREFIX*' (every lock whose name starts with PREFIX) or --register KEY,"
                            + " e.g. holdfast watch jobs/nightly");
        }
        if (untilFree && (register != null || name.endsWith("*"))) {
            throw new CliFailure(ExitCodes.USAGE, "--until-free needs one lock NAME, not a prefix or a register");
        }
        try {
            if (register != null) {
                return WatchTarget.register(register);
            }
            return name.endsWith("*")
                    ? WatchTarget.prefix(name.substring(0, name.length() - 1))
                    : WatchTarget.lock(name);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
    }

    private int follow(LockClient client, WatchTarget target, Follower follower) throws InterruptedException {
        Watch watch;
        try {
            watch = client.watch(target, follower);
        } catch (UnsupportedFeatureException e) {
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
            if (!stopped && untilFree) {
                throw new CliFailure(
                        ExitCodes.NOT_ACQUIRED, "'" + name + "' was still held after " + Durations.format(timeout));
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
            if ((untilFree && isFree(event)) || (count != null && events >= count)) {
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
