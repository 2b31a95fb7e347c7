package io.holdfast.bench.cli;

import io.holdfast.HasErrorCode;
import io.holdfast.bench.load.CpuMeter;
import io.holdfast.bench.load.LatencyPlot;
import io.holdfast.bench.load.LoadGenerator;
import io.holdfast.bench.load.LoadReport;
import io.holdfast.bench.load.LoadSettings;
import io.holdfast.cli.BackendOption;
import io.holdfast.cli.CliCommand;
import io.holdfast.cli.CliFailure;
import io.holdfast.cli.DurationConverter;
import io.holdfast.cli.ExitCodes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast bench}: an end-to-end load run against a backend ({@link LoadGenerator}): N clients, each with
 * its own session, doing acquire+release pairs on M locks; prints throughput and latency percentiles. It stops by
 * itself after {@code --warmup} plus {@code --duration}.
 *
 * <p>A command of the repository's lab, not of the product: holdfast-cli finds it at run time ({@link CliCommand},
 * named in this module's {@code META-INF/services}) when {@code holdfast-bench/target/cli-commands.jar} is on the
 * class path, as the repository's {@code ./holdfast} puts it; the distribution leaves it out and says so.
 *
 * <p>Guaranteed: a backend that no provider accepts, or that cannot be reached, fails before any client thread
 * starts (exit 64 or 69); exit 0 only when no pair failed. Not guaranteed: steady figures on a busy machine (the
 * load generator shares the CPU with whatever else runs). Failure story: the backend goes away mid-run; the pairs
 * that fail are counted by type, the run goes on to its end, and it exits 1.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Measure a backend end to end: N clients (threads, each with its own session) loop acquire+release on"
                    + " M locks; prints pairs/s (handoffs/s on one lock) and latency percentiles, and writes a"
                    + " latency plot (--plot).",
            "",
            "  holdfast bench --clients 1                        one client",
            "  holdfast bench --clients 64 --locks 64            64 clients on 64 locks",
            "  holdfast bench --clients 64 --locks 1             64 clients on one lock (handoffs)",
            "  holdfast bench --clients 64 --share-client        64 threads on one client's session",
            "  holdfast bench --per-second --warmup 0s --await-backend 60s   from a cluster's first second",
            "",
            "Exit code: 0 without errors; 1 when some pairs failed (counted by type); 69 backend unavailable;"
                    + " 64 usage error."
        })
public final class BenchCommand implements Callable<Integer>, CliCommand {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOption backend;

    @Option(
            names = "--clients",
            defaultValue = "1",
            description = "Client threads, each with its own session" + " (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(
            names = "--share-client",
            description = "Every thread on one client: one session and one connection, as an application's threads"
                    + " share its client (bench-peers' 'shared session' row); else a client each.")
    boolean shareClient;

    @Option(
            names = "--locks",
            description = "Locks they use: client i takes lock i mod M; 1 puts every client on one lock (default:"
                    + " one per client).")
    Integer locks;

    @Option(
            names = "--duration",
            paramLabel = "DURATION",
            defaultValue = "20s",
            converter = DurationConverter.class,
            description = "Measured time (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(
            names = "--warmup",
            paramLabel = "DURATION",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description = "Unmeasured time before it (default: ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(
            names = "--wait",
            paramLabel = "DURATION",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description = "How long one acquire may wait (default: ${DEFAULT-VALUE}).")
    Duration acquireWait;

    @Option(
            names = "--tsv",
            paramLabel = "FILE",
            description = "Also append the result as one tab-separated line to FILE (a header first if it is new).")
    Path tsv;

    @Option(names = "--label", description = "The result's name in --tsv (default: e.g. '64 clients on one lock').")
    String label;

    @Option(
            names = "--plot",
            paramLabel = "FILE",
            defaultValue = "holdfast-bench.html",
            description = "Write the latency plot (percentiles of acquire, release and the pair; an HTML page with"
                    + " an inline SVG) and the table to FILE (default: ${DEFAULT-VALUE}); 'none' for no plot.")
    Path plot;

    @Option(
            names = "--server-pid",
            paramLabel = "PID",
            split = ",",
            description = "Server processes on this machine whose CPU time to report per pair, next to this"
                    + " command's own (repeat, or PID,PID,...).")
    List<Long> serverPids = new ArrayList<>();

    @Option(
            names = "--per-second",
            description = "Also print one line per second on stdout as it ends, warmup included: pairs/s (handoffs/s)"
                    + " and the p50 and p99 of the pairs that ended in that second, and that second's errors.")
    boolean perSecond;

    @Option(
            names = "--await-backend",
            paramLabel = "DURATION",
            defaultValue = "0s",
            converter = DurationConverter.class,
            description = "Until the backend first answers, try again every 100 ms for up to this long instead of"
                    + " failing at once (exit 69 after it): for a cluster that is still starting (default:"
                    + " ${DEFAULT-VALUE}).")
    Duration awaitBackend;

    @Option(
            names = "--progress",
            negatable = true,
            description = "A progress line on stderr (default: when it is a" + " terminal).")
    Boolean progress;

    @Override
    public Integer call() throws InterruptedException {
        String uri = backend.uri();
        LoadSettings settings;
        CpuMeter meter;
        try {
            settings = new LoadSettings(
                    uri, clients, locks == null ? clients : locks, duration, warmup, acquireWait, shareClient);
            meter = CpuMeter.of(serverPids);
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        awaitBackend(); // no provider: a usage error; unreachable: 69, before any thread starts
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean showProgress = progress != null ? progress : System.console() != null;
        long[] errorsBefore = {0};
        boolean[] wasWarmup = {true};
        LoadReport report = new LoadGenerator(settings, meter).run(t -> {
            if (perSecond) {
                if (wasWarmup[0] && !t.warmup()) {
                    errorsBefore[0] = 0; // the measured window counts its errors from zero
                }
                wasWarmup[0] = t.warmup();
                out.println(LoadGenerator.secondLine(t, errorsBefore[0], settings));
                out.flush();
                errorsBefore[0] = t.errors();
            }
            if (showProgress) {
                err.print("\r" + LoadGenerator.progressLine(t, settings));
                err.flush();
            }
        });
        if (showProgress) {
            err.println();
        }
        report.print(out);
        if (!plot.toString().equals("none")) {
            try {
                LatencyPlot.write(plot, report);
            } catch (IOException e) {
                throw new CliFailure(ExitCodes.SOFTWARE, "cannot write " + plot + ": " + e.getMessage(), e);
            }
            out.println("  latency plot " + plot.toAbsolutePath());
            out.flush();
        }
        if (tsv != null) {
            try {
                LoadGenerator.appendTsv(tsv, label == null ? settings.describe() : label, report);
            } catch (IOException e) {
                throw new CliFailure(ExitCodes.SOFTWARE, "cannot write " + tsv + ": " + e.getMessage(), e);
            }
        }
        return report.errorCount() == 0 ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }

    /**
     * Opens and closes one client, again every 100 ms while the backend is unavailable (exit 69), until {@code
     * --await-backend} has passed; then the last failure is the command's. Any other failure (no provider for the
     * URI, a malformed one) is the command's at once.
     */
    private void awaitBackend() throws InterruptedException {
        long deadline = System.nanoTime() + awaitBackend.toNanos();
        while (true) {
            try {
                backend.open().close();
                return;
            } catch (RuntimeException e) {
                boolean unavailable =
                        e instanceof HasErrorCode c && ExitCodes.of(c.code()) == ExitCodes.BACKEND_UNAVAILABLE;
                if (!unavailable || System.nanoTime() - deadline >= 0) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
