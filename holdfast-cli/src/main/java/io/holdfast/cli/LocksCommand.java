package io.holdfast.cli;

import io.holdfast.Admin;
import io.holdfast.HolderInfo;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.WaiterInfo;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast locks [PREFIX]}: the locks and semaphores that are held or waited for, with each
 * holder (client name, session, mode, fencing token, how long it has held, lease left) and the
 * waiters in queue order. Only a snapshot: by the time it is printed, it may have changed.
 *
 * <p>Exit code 0, also when nothing is held; {@value ExitCodes#BACKEND_UNAVAILABLE} when the backend
 * cannot be reached; {@value ExitCodes#USAGE} for bad input, or a backend that cannot list its locks.
 */
@Command(
        name = "locks",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Print the locks and semaphores that are held or waited for (names starting with PREFIX):"
                    + " holders with their fencing tokens, and waiters in queue order.",
            "Exit code: 0; 69 backend unavailable; 64 usage error or a backend that cannot list locks."
        })
final class LocksCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "PREFIX",
            defaultValue = "",
            description = "Only names that start with this (default: all).")
    String prefix;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Print at most N locks, 1 to " + Admin.MAX_LIMIT + " (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "Print a JSON array (the HTTP API's shape, docs/http-api.md).")
    boolean json;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() {
        if (limit < 1 || limit > Admin.MAX_LIMIT) {
            throw new CliFailure(
                    ExitCodes.USAGE, "--limit must be between 1 and " + Admin.MAX_LIMIT + ", not " + limit);
        }
        String uri = backend.uri();
        List<LockInfo> locks;
        try (LockClient client = Backends.open(uri)) {
            locks = client.admin().locks(prefix, limit);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            var array = io.holdfast.server.http.JsonViews.JSON.createArrayNode();
            locks.forEach(l -> array.add(io.holdfast.server.http.JsonViews.lock(l)));
            out.println(array.toPrettyString());
            out.flush();
            return ExitCodes.OK;
        }
        print(locks, out);
        if (locks.size() == limit) {
            out.println("(the first " + limit + "; --limit shows more)");
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** One block per lock: a line per holder, then its waiters indented, head of the queue first. */
    static void print(List<LockInfo> locks, PrintWriter out) {
        if (locks.isEmpty()) {
            out.println("no locks are held or waited for");
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "HELD BY", "SESSION", "MODE", "TOKEN", "HELD FOR", "LEASE LEFT", "WAITERS"});
        for (LockInfo lock : locks) {
            String name = lock.semaphore() ? lock.name() + " (" + lock.maxPermits() + " permits)" : lock.name();
            String waiters = Integer.toString(lock.waiters().size());
            if (lock.holders().isEmpty()) {
                rows.add(new String[] {name, "-", "-", "-", "-", "-", "-", waiters});
            }
            for (HolderInfo h : lock.holders()) {
                rows.add(new String[] {
                    name,
                    h.clientName(),
                    h.sessionId(),
                    mode(h.mode(), h.permits()),
                    Long.toString(h.fencingToken()),
                    duration(h.heldFor()),
                    h.leaseLeft() == null ? "-" : duration(h.leaseLeft()),
                    waiters
                });
                name = "";
                waiters = "";
            }
            int place = 1;
            for (WaiterInfo w : lock.waiters()) {
                rows.add(new String[] {
                    "  " + place++ + ". waiting",
                    w.clientName(),
                    w.sessionId(),
                    mode(w.mode(), w.permits()),
                    "",
                    duration(w.waitingFor()) + " so far",
                    duration(w.timeLeft()) + " to go",
                    ""
                });
            }
        }
        table(rows, out);
    }

    /** Prints rows as columns, each as wide as its widest cell; the first row is the header. */
    static void table(List<String[]> rows, PrintWriter out) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + width[i] + "s  ", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String mode(LockMode mode, int permits) {
        return mode == LockMode.PERMITS ? permits + " permit" + (permits == 1 ? "" : "s") : mode.name();
    }

    /** 850ms, 12.3s, 4m05s, 2h03m. */
    static String duration(Duration d) {
        long ms = Math.max(0, d.toMillis());
        if (ms < 1000) {
            return ms + "ms";
        }
        if (ms < 60_000) {
            return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
