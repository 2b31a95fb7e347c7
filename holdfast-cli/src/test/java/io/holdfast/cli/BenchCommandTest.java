package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int bench(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(all);
    }

    @Test
    void measuresHandoffsOnOneLockAndWritesATsvLine(@TempDir Path dir) throws Exception {
        Path tsv = dir.resolve("results.tsv");
        int exit = bench(
                "--backend",
                "mem:bench-test",
                "--clients",
                "4",
                "--locks",
                "1",
                "--duration",
                "1s",
                "--warmup",
                "0s",
                "--tsv",
                tsv.toString(),
                "--label",
                "c",
                "--plot",
                dir.resolve("plot.html").toString(),
                "--progress");

        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString())
                .startsWith("4 clients on one lock at mem:bench-test")
                .contains("handoffs/s")
                .contains("p99.9")
                .contains("errors       none");
        assertThat(Files.readAllLines(tsv)).hasSize(2).last().asString().startsWith("c\t4\t1\t");
        String plot = Files.readString(dir.resolve("plot.html"));
        assertThat(plot)
                .startsWith("<!doctype html>")
                .contains("<svg", "<path d=\"M", "acquire+release", "99.99%", "handoffs/s")
                .doesNotContain("<script");
        assertThat(out.toString())
                .contains("latency plot " + dir.resolve("plot.html").toAbsolutePath());
        assertThat(err.toString()).as("the progress bar").contains("[####").contains("measure");
    }

    @Test
    void badCountsAreUsageErrors() {
        assertThat(bench("--backend", "mem:", "--clients", "2", "--locks", "3")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--locks must be between 1 and the number of clients (2)");
    }
}
