package io.holdfast.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One command of the CLI run in the test's JVM, as a user types it, on a thread of its own: its
 * standard output and error, and its exit code once it ends. For the commands that run until
 * something happens (a held key, a join, a watch, a keep-alive) the test acts while it runs.
 */
final class CliRun {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    final CompletableFuture<Integer> exit;

    CliRun(String... args) {
        exit = CompletableFuture.supplyAsync(
                () -> Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                        .execute(args));
    }

    /** The lines written to standard output so far. */
    List<String> lines() {
        return out.toString().lines().toList();
    }

    /** The exit code, waited for at most {@code d}. */
    int exitWithin(Duration d) throws Exception {
        return exit.get(d.toMillis(), TimeUnit.MILLISECONDS);
    }
}
