package io.holdfast.cli;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedMultiLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.MultiLease;
import io.holdfast.Names;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast lock NAME... [options] -- COMMAND...}: runs COMMAND while holding the lock NAME, like
 * {@code flock(1)} across machines; with several names, while holding all of them ({@link
 * DistributedMultiLock}: taken all or none). One name gives the child {@code HOLDFAST_LOCK_NAME} and
 * {@code HOLDFAST_FENCING_TOKEN}; several give {@code HOLDFAST_LOCK_NAMES} (one per line, in the order
 * taken) and {@code HOLDFAST_FENCING_TOKENS} (one {@code NAME=TOKEN} per line, the token after the last
 * {@code =}).
 *
 * <p>Connecting and waiting are timed apart: opening a session with the backend may take up to {@code
 * --connect-timeout} (default 10 s; a node that is still starting, or has no leader yet, is asked again within
 * it), and {@code --wait} counts from the open session, so {@code --wait 0s} tries once however long connecting
 * took.
 *
 * <p>The exit code is COMMAND's own, except: {@value ExitCodes#NOT_ACQUIRED} when the lock was not acquired within
 * {@code --wait} (COMMAND did not run; the line names who holds it); {@value ExitCodes#LOCK_LOST} when the lock was
 * lost while COMMAND ran (COMMAND was stopped: SIGTERM, then SIGKILL after {@code --grace}) or before it could be
 * released; {@value ExitCodes#BACKEND_UNAVAILABLE} when the backend cannot be reached within {@code
 * --connect-timeout}; {@value ExitCodes#USAGE} for bad input; 127/126 when COMMAND cannot be found/started.
 *
 * <p>If this process is stopped by SIGTERM or SIGINT, COMMAND is stopped the same way and the lock released
 * before it exits.
 */
@Command(
        name = "lock",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Run COMMAND while holding the lock NAME, or all of several NAMEs (taken all or none).",
            "The child gets HOLDFAST_LOCK_NAME and HOLDFAST_FENCING_TOKEN in its environment; with several"
                    + " names, HOLDFAST_LOCK_NAMES and HOLDFAST_FENCING_TOKENS (NAME=TOKEN), one per line.",
            "Exit code: the child's own; 75 not acquired in time (the holder is named); 76 lock lost while running (the child"
                    + " was stopped); 69 backend unavailable; 64 usage error; 127/126 command not found/not"
                    + " runnable."
        })
final class LockCommand implements Callable<Integer>, Main.NeedsEnvironment {
    /** Set to 1 to show the waiting line even when not on a terminal (tests, CI logs). */
    static final String PROGRESS_VARIABLE = "HOLDFAST_PROGRESS";

    private Map<String, String> env = Map.of();

    @Override
    public void environment(Map<String, String> env) {
        this.env = env;
    }

    @Spec
    CommandSpec spec;

    @Parameters(
            arity = "1..*",
            paramLabel = "NAME... -- COMMAND",
            description = "The lock's name (e.g. jobs/nightly), or several names taken all or none, then --"
                    + " and the command to run with its arguments. Without --, the first word is the name.")
    List<String> positionals;

    /** The lock names, given before {@code --}. */
    private List<String> names;

    /** The command and its arguments, after {@code --}. */
    private List<String> command;

    /** The names as one phrase for messages: {@code 'a'}, or {@code 'a', 'b'}. */
    private String quoted;

    @Option(
            names = "--wait",
            paramLabel = "DURATION",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description = "How long to wait for the lock, counted once connected (default: ${DEFAULT-VALUE});"
                    + " 0s tries once. Connecting has its own --connect-timeout.")
    Duration wait;

    @Option(names = "--shared", description = "Take the lock in shared (read) mode.")
    boolean shared;

    @Option(
            names = "--lease-timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Let the backend take the lock back if this process stops renewing it for this long.")
    Duration leaseTimeout;

    @Option(
            names = "--grace",
            paramLabel = "DURATION",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description =
                    "When the lock is lost, or this CLI dies: SIGKILL the command this long after SIGTERM (default:"
                            + " ${DEFAULT-VALUE}).")
    Duration grace;

    @Mixin
    BackendOption backend;

    @Mixin
    ConnectOption connect;

    /** Splits the positionals at {@code --}: everything after it is the command, as picocli parsed it. */
    private void splitPositionals() {
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        int dash = original.indexOf("--");
        int commandWords = dash < 0 ? positionals.size() - 1 : original.size() - dash - 1;
        int nameCount = positionals.size() - commandWords;
        if (commandWords < 1 || nameCount < 1) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    "missing COMMAND: give the lock name (or names), then -- and the command to run,"
                            + " e.g. holdfast lock jobs/nightly -- ./nightly.sh",
                    null);
        }
        names = List.copyOf(positionals.subList(0, nameCount));
        command = List.copyOf(positionals.subList(nameCount, positionals.size()));
        quoted = "'" + String.join("', '", names) + "'";
    }

    @Override
    public Integer call() throws InterruptedException {
        splitPositionals();
        String uri = backend.uri();
        // Bad input is reported before anything is contacted.
        AcquireOptions options = acquireOptions(wait);
        ClientOptions clientOptions = connect.clientOptions();
        // Connecting has its own timeout: --wait counts from the open session, so that a try-once
        // is a try however long connecting took.
        LockClient client = Backends.open(uri, clientOptions);
        AtomicReference<ChildProcess> child = new AtomicReference<>();
        // SIGTERM or SIGINT to this process: stop the child, then give the lock back.
        HeldChild.SignalHook onSignal = HeldChild.onSignal("holdfast-lock-shutdown", client, child, grace);
        try {
            return names.size() == 1
                    ? runHolding(single(client, options), child)
                    : runHolding(multi(client, options), child);
        } catch (RuntimeException e) {
            if (onSignal.fired()) {
                return ExitCodes.NOT_ACQUIRED; // stopped while waiting: the JVM exits with the signal's code
            }
            throw e;
        } finally {
            onSignal.remove();
            client.close();
        }
    }

    /** What the command runs under, one lease or a multi-lease: its variables, its release, its loss. */
    private record Held(
            Map<String, String> environment, Runnable release, Consumer<Consumer<? super LockLostException>> onLost) {}

    private Held single(LockClient client, AcquireOptions options) throws InterruptedException {
        String name = names.get(0);
        DistributedLock lock = shared ? client.readWriteLock(name).readLock() : client.lock(name);
        Lease lease = acquire(client, lock.acquireAsync(options));
        return new Held(
                Map.of("HOLDFAST_LOCK_NAME", name, "HOLDFAST_FENCING_TOKEN", Long.toString(lease.fencingToken())),
                lease::release,
                lease::onLost);
    }

    private Held multi(LockClient client, AcquireOptions options) throws InterruptedException {
        MultiLease lease;
        try {
            lease = acquire(
                    client,
                    client.multiLock(names, shared ? LockMode.SHARED : LockMode.EXCLUSIVE)
                            .acquireAsync(options));
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        StringBuilder tokens = new StringBuilder();
        lease.fencingTokens()
                .forEach((n, t) -> tokens.append(n).append('=').append(t).append('\n'));
        return new Held(
                Map.of(
                        "HOLDFAST_LOCK_NAMES",
                                String.join("\n", lease.fencingTokens().keySet()),
                        "HOLDFAST_FENCING_TOKENS", tokens.toString().strip()),
                lease::release,
                lease::onLost);
    }

    private AcquireOptions acquireOptions(Duration waitTime) {
        try {
            for (String name : names) {
                Names.check(name);
            }
            if (names.size() != new java.util.HashSet<>(names).size()) {
                throw new InvalidArgumentException("each lock name may be given once: " + quoted);
            }
            if (names.size() > DistributedMultiLock.MAX_NAMES) {
                throw new InvalidArgumentException(
                        "at most " + DistributedMultiLock.MAX_NAMES + " lock names, not " + names.size());
            }
            AcquireOptions options = AcquireOptions.waitUpTo(waitTime);
            return leaseTimeout == null ? options : options.withLeaseTimeout(leaseTimeout);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
    }

    /**
     * Waits for the lock. On a terminal (or with {@value #PROGRESS_VARIABLE}=1) a line on stderr
     * says who holds it and for how long and how many wait ahead, redrawn every second and erased
     * once the wait ends; elsewhere the wait is silent.
     */
    private <T> T acquire(LockClient client, CompletableFuture<T> pending) throws InterruptedException {
        boolean progress = System.console() != null || "1".equals(env.get(PROGRESS_VARIABLE));
        PrintWriter err = spec.commandLine().getErr();
        int shown = 0;
        try {
            if (progress) {
                try {
                    return pending.get(300, TimeUnit.MILLISECONDS); // a free lock: no line at all
                } catch (TimeoutException busy) {
                    // show who we wait for, below
                }
                while (true) {
                    String line = waitingLine(client);
                    if (line != null) {
                        err.print("\r" + line + " ".repeat(Math.max(0, shown - line.length())));
                        err.flush();
                        shown = line.length();
                    }
                    try {
                        return pending.get(1, TimeUnit.SECONDS);
                    } catch (TimeoutException stillWaiting) {
                        // redraw
                    }
                }
            }
            return pending.get();
        } catch (InterruptedException e) {
            pending.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof LockTimeoutException timeout) {
                String holder = Holders.heldBy(client, names);
                throw new CliFailure(
                        ExitCodes.NOT_ACQUIRED,
                        (holder == null ? "" : holder + "; ") + quoted + (names.size() == 1 ? " was" : " were")
                                + " not acquired within " + Durations.format(wait) + "; the command did not run",
                        timeout);
            }
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } finally {
            if (shown > 0) {
                err.print("\r" + " ".repeat(shown) + "\r");
                err.flush();
            }
        }
    }

    /**
     * "waiting for NAME (held by X for 12s, 3 ahead of you)", or null if the backend cannot say; for
     * several names, the first one that is held.
     */
    private String waitingLine(LockClient client) {
        String name = names.get(0);
        if (names.size() > 1) {
            name = null;
            for (String n : names) {
                try {
                    if (client.admin()
                            .describe(n)
                            .map(i -> !i.holders().isEmpty())
                            .orElse(false)) {
                        name = n;
                        break;
                    }
                } catch (RuntimeException e) {
                    return "waiting for " + quoted;
                }
            }
            if (name == null) {
                return "waiting for " + quoted;
            }
        }
        io.holdfast.LockInfo info;
        try {
            info = client.admin().describe(name).orElse(null);
        } catch (RuntimeException e) {
            return null; // a backend that cannot describe locks: wait silently
        }
        if (info == null) {
            return "waiting for " + name;
        }
        StringBuilder line = new StringBuilder("waiting for ").append(name).append(" (");
        if (info.holders().isEmpty()) {
            line.append("free, lock-delay");
        } else {
            io.holdfast.HolderInfo h = info.holders().get(0);
            line.append("held by ").append(h.clientName()).append(" for ").append(LocksCommand.duration(h.heldFor()));
            if (info.holders().size() > 1) {
                line.append(" and ").append(info.holders().size() - 1).append(" more");
            }
        }
        int ahead = -1;
        for (int i = 0; i < info.waiters().size(); i++) {
            if (info.waiters().get(i).sessionId().equals(client.sessionId())) {
                ahead = i;
                break;
            }
        }
        if (ahead >= 0) {
            line.append(", ").append(ahead == 0 ? "you are next" : ahead + " ahead of you");
        }
        return line.append(')').toString();
    }

    /** Runs the command under {@code lease} and gives the lease back. */
    private int runHolding(Held lease, AtomicReference<ChildProcess> child) throws InterruptedException {
        return HeldChild.run(
                new HeldChild.Holding(
                        "holdfast lock",
                        quoted,
                        names.size() > 1,
                        lease.environment(),
                        lease.release(),
                        lease.onLost()),
                command,
                child,
                grace,
                spec.commandLine().getErr());
    }
}
