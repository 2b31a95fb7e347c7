package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.concurrent.Callable;
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
        return new WatchRun(spec, target, json, count, timeout, untilFree ? name : null).run(backend);
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
}
